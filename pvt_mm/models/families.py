"""The backbone families, one :class:`Family` entry each: the table everything per-family derives
from (the tools' ``--arch`` names, registration in the toolboxes, the benchmark's peers, the
tests' official models).

A family is its backbone class (whose ``arch_settings`` are the presets), the official
reference formulation (built from a preset's fields), the official ImageNet weights of each
preset, and the names of the same network in the libraries the benchmark compares with. A new
family is one :func:`register_family` call next to its backbone class.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Family:
    """One backbone family.

    Args:
        name: the prefix of its ``--arch`` names (``'pvtv2'`` -> ``pvtv2-b2``).
        backbone: its backbone class, registered in every toolbox's MODELS;
            ``backbone.arch_settings`` holds the presets.
        reference: builds the official formulation from a preset's fields (``reference(
            **preset)``); its ``state_dict()`` is in the official checkpoint layout and its
            ``forward_pyramid`` is the official dense-prediction forward.
        weights: preset -> URL of its official ImageNet checkpoint (the shipped configs write
            these URLs out; tests/test_house.py checks every one against this table).
        mmdet_type: mmdet 3.x's built-in class of the same network (the benchmark's peer), or
            None.
        timm_model: timm's model name, ``{arch}`` standing for the preset with ``_`` for ``-``,
            or None.
        transformers: whether Hugging Face transformers' ``PvtV2Backbone`` builds it at any
            input size.
    """
    name: str
    backbone: type
    reference: Callable
    weights: Dict[str, str] = field(default_factory=dict)
    mmdet_type: Optional[str] = None
    timm_model: Optional[str] = None
    transformers: bool = False

    @property
    def archs(self) -> Dict[str, dict]:
        """The presets: ``{name: fields}``."""
        return self.backbone.arch_settings

    def build_reference(self, arch: str, **kwargs):
        """The official formulation of preset ``arch`` (``kwargs`` override its fields)."""
        return self.reference(**dict(self.archs[arch], **kwargs))


FAMILIES: Dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` (a second family of the same name is an error)."""
    known = FAMILIES.get(family.name)
    if known is not None and known.backbone is not family.backbone:
        raise ValueError(f'a backbone family named {family.name!r} is registered already')
    FAMILIES[family.name] = family
    return family


def arch_names() -> List[str]:
    """Every ``FAMILY-PRESET`` name (``pvt-small``, ``pvtv2-b2-li``, ...)."""
    return [f'{f.name}-{arch}' for f in FAMILIES.values() for arch in f.archs]


def backbone_arch(name: str) -> Tuple[type, str]:
    """``'pvt-small'`` / ``'pvtv2-b2-li'`` (the tools' ``--arch`` spelling) -> ``(backbone
    class, 'small' / 'b2-li')``; an unknown name is a ValueError that lists the known ones."""
    family, arch = family_arch(name)
    return family.backbone, arch


def family_arch(name: str) -> Tuple[Family, str]:
    """``'pvtv2-b2-li'`` -> ``(its Family, 'b2-li')`` (see :func:`backbone_arch`)."""
    prefix, _, arch = name.partition('-')
    family = FAMILIES.get(prefix)
    if family is None or arch not in family.archs:
        raise ValueError(f'unknown arch {name!r}; choose one of {", ".join(arch_names())}')
    return family, arch


def family_of(backbone) -> Family:
    """The family of a backbone class, instance or registered type name (``'PVTv2'``)."""
    if not isinstance(backbone, str):
        backbone = backbone.__name__ if isinstance(backbone, type) else type(backbone).__name__
    for family in FAMILIES.values():
        if family.backbone.__name__ == backbone:
            return family
    raise ValueError(f'{backbone!r} is not the backbone of a family; families: '
                     f'{", ".join(f.backbone.__name__ for f in FAMILIES.values())}')


__all__ = [
    'FAMILIES', 'Family', 'arch_names', 'backbone_arch', 'family_arch', 'family_of',
    'register_family'
]
