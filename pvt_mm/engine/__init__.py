from .hooks import CheckpointFitHook, RNGStateHook

__all__ = ['CheckpointFitHook', 'RNGStateHook']
