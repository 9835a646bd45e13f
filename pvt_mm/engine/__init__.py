"""What pvt_mm adds to mmengine's Runner: its hooks, and CPU launches."""
from .hooks import CheckpointFitHook, RNGStateHook
from .launch import prepare_cpu_run

__all__ = ['CheckpointFitHook', 'RNGStateHook', 'prepare_cpu_run']
