# MMSegmentation runtime (hooks, logging, visualizer, default_scope='mmseg') plus pvt_mm itself.
_base_ = ['mmseg::_base_/default_runtime.py', './pvt_mm_plugin.py']
