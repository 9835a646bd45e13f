from .toy import CLASSES as TOY_CLASSES
from .toy import generate_toy_data, write_toy_data
from .transforms import AlignResize

__all__ = ['AlignResize', 'generate_toy_data', 'TOY_CLASSES', 'write_toy_data']
