# What pvt_mm adds to any mmdet / mmseg config: the plugin import (registers PVT, PVTv2,
# AlignResize and the hooks below), the random generators' states in checkpoints (so `--resume`
# continues the same random streams), and a check of every loaded checkpoint against the model
# (a file that leaves weights unset is an error, not a silently random model).
custom_imports = dict(imports=['pvt_mm'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='CheckpointFitHook')]
