"""Third-party warnings that tell pvt_mm's users nothing they can act on, silenced in one place
(``import pvt_mm`` runs this before importing torch and the OpenMMLab stack). Each is matched by
its own text, so every other warning still shows."""
import warnings

KNOWN = [
    # setuptools, on mmengine's, mmcv's, mmdet's and mmseg's imports of pkg_resources (five
    # times at every tool's start).
    (UserWarning, r'pkg_resources is deprecated as an API'),
]


def silence_known_warnings():
    for category, message in KNOWN:
        warnings.filterwarnings('ignore', message=message, category=category)


silence_known_warnings()
