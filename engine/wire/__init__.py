"""The engine's side of the plug-ins: standard library only, copied whole into both plug-ins.

``installer/vendor.py`` copies these modules into each plug-in's ``vendor/`` package (``VENDORED``),
so Krita's and GIMP's own Python run them without the engine's environment: the request schema
and the protocol's constants (``schema``), one HTTP exchange (``transport``), the inference
request, plug-in settings and endpoint choice (``client``), the managed loopback ``inkhue serve``
(``local_server``), the layer rules (``layer_rules``), the style pairs a plug-in saves
(``style_pairs``), the user's folders per OS (``folders``) and the background fine-tune
(``finetune_job``). They import each other relatively and nothing outside this folder.
"""
