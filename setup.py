"""pvt_mm: PVT v1 / PVTv2 backbones for MMDetection 3.x and MMSegmentation 1.x."""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    """Requirement lines of requirements/<name>.txt, without comments."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    scope = {}
    with open(osp.join(HERE, 'pvt_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='pvt_mm',
    version=read_version(),
    description='Pyramid Vision Transformer (PVT v1, PVTv2) for MMDetection and MMSegmentation',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.8',
        'Programming Language :: Python :: 3.9',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
    ],
    # The oldest Python the code runs on, as vermin finds it (tests/test_install.py); 3.11 is the
    # version CI runs (docs/installation.md, "Supported versions").
    python_requires='>=3.8',
    packages=find_packages(include=['pvt_mm', 'pvt_mm.*']),
    # The configs travel with the package (pvt_mm/.mim links to the repository's configs/), so
    # `_base_ = 'pvt_mm::pvt/...'` works from a regular install too.
    package_data={
        'pvt_mm': [
            '.mim/model-index.yml', '.mim/configs/*/*.py', '.mim/configs/*/*/*.py',
            '.mim/configs/*/metafile.yml'
        ]
    },
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'all': read_requirements('optional.txt'),
        'tests': read_requirements('tests.txt'),
    },
    zip_safe=False,
)
