import os
import os.path as osp
import subprocess

import pytest
import torch

import pvt_mm  # noqa: F401  (registers the backbones, applies the compat fixes)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


# Under pytest-xdist (`-n N`) every worker computes with one thread, and so do the tools it
# starts, so that N workers share N cores without oversubscribing them.
if os.environ.get('PYTEST_XDIST_WORKER'):
    torch.set_num_threads(1)
    os.environ['OMP_NUM_THREADS'] = '1'

# The tests that take the better part of a minute or more, longest first: they start first, and
# pytest.ini's `--dist worksteal` lets an idle worker take queued tests from the other, so that
# with `-n 2` the run ends with short tests on both workers rather than a long one on one.
LONGEST_FIRST = (
    'tests/test_compile.py::test_quickstart_trains_with_mmengine_compile',
    'tests/test_quickstart.py',
    'tests/test_compile.py::test_compiled_outputs_and_gradients_equal_eager',
    'tests/test_frameworks.py::test_trains_then_tests_on_toy_data',
    'tests/test_detection.py::test_trains_and_tests_on_toy_data',
    'tests/test_deployment.py::test_backbone_variants_export_with_dynamo',
    'tests/test_faults.py',
)


# The slow tier, marked here in one place: `pytest -m "not slow"` (docs/development.md, "Tests")
# skips these; the README's command and CI run them. Trainings and evaluations through the tools,
# compiles, exports through torch.export, subprocess benchmarks, installs, and the hostile-file
# corpus through the reader and every entry point.
SLOW = (
    'tests/test_quickstart.py::test_detection_quickstart',
    'tests/test_quickstart.py::test_segmentation_quickstart',
    'tests/test_compile.py::test_one_compile',
    'tests/test_compile.py::test_compiled_outputs',
    'tests/test_compile.py::test_quickstart_trains',
    'tests/test_detection.py::test_trains_and_tests_on_toy_data',
    'tests/test_frameworks.py::test_trains_then_tests_on_toy_data',
    'tests/test_panoptic.py::test_trains_then_tests_on_toy_panoptic_data',
    'tests/test_panoptic.py::test_mmdet_transform_and_metric_agree',
    'tests/test_segmentation.py',
    'tests/test_faults.py',
    'tests/test_entry_points.py',
    'tests/test_fileio.py::test_the_reader_refuses_whatever_torchs_own_refuses',
    'tests/test_deployment.py::test_backbone_variants_export_with_dynamo',
    'tests/test_deployment.py::test_export_tool',
    'tests/test_analysis.py::test_benchmark_compare_measures_every_implementation',
    'tests/test_analysis.py::test_benchmark_whole_model',
    'tests/test_analysis.py::test_benchmark_compare_whole_models',
    'tests/test_analysis.py::test_fresh_process',
    'tests/test_analysis.py::test_get_flops_tool',
    'tests/test_install.py',
    'tests/test_configs.py::test_clone_named_pvt_mm',
    'tests/test_configs.py::test_readme_downstream_config_trains',
    'tests/test_configs.py::test_tools_run_from_another_directory',
    'tests/test_ops.py::test_every_speed_option_is_the_official_math',
    'tests/test_ops.py::test_training_step_is_the_official_math',
    'tests/test_compat.py::test_tools_silence_known_third_party_warnings_only',
)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)

    def rank(item):
        return next((i for i, prefix in enumerate(LONGEST_FIRST)
                     if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Every test runs in its own temporary directory: whatever a tool writes to its working
    directory (toy data, work_dirs) never lands in the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _forget_visualizers():
    """After each test, forget mmengine's visualizers. A Runner gets its visualizer by name
    (mmdet's and mmseg's configs all say ``name='visualizer'``), and mmengine hands back an
    existing instance of that name: a later run in the same worker would write its vis_data into
    the first run's work dir, which pytest deletes when that test passes."""
    yield
    from mmengine.visualization import Visualizer
    classes = [Visualizer]
    while classes:
        cls = classes.pop()
        cls._instance_dict.clear()
        classes.extend(cls.__subclasses__())


def _untracked():
    """Untracked and ignored files of the checkout, caches aside (None without git)."""
    try:
        out = subprocess.run(['git', 'status', '--porcelain', '--ignored', '--untracked-files=all'],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    caches = ('__pycache__', '.pytest_cache', '.egg-info')
    return {line[3:] for line in out.splitlines() if not any(c in line for c in caches)}


def pytest_sessionstart(session):
    session.config._checkout_before = _untracked()


def pytest_sessionfinish(session, exitstatus):
    before = session.config._checkout_before
    after = _untracked()
    if before is None or after is None:
        return
    new = sorted(after - before)
    if new:
        session.config.pluginmanager.get_plugin('terminalreporter').write_line(
            f'tests wrote into the checkout: {", ".join(new)}', red=True)
        session.exitstatus = 1
