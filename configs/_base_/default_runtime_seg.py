# MMSegmentation runtime (hooks, logging, visualizer, default_scope='mmseg') plus pvt_mm itself.
_base_ = 'mmseg::_base_/default_runtime.py'
custom_imports = dict(imports=['pvt_mm'], allow_failed_imports=False)
# Random generators' states go into checkpoints, so `--resume` continues the same streams.
custom_hooks = [dict(type='RNGStateHook')]
