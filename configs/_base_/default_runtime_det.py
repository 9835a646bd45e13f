# MMDetection runtime (hooks, logging, visualizer, default_scope='mmdet') plus pvt_mm itself.
_base_ = ['mmdet::_base_/default_runtime.py', './pvt_mm_plugin.py']
