"""Real-GIMP 3 integration test of the GIMP plug-in (chroot set-up, harness, driver)."""
