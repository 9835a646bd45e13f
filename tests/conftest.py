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

# The tests that take the better part of a minute or more, with the seconds each took (work
# seconds: pinned stack, `-n 2`, one thread per worker, this project's 2-core machine; the inductor
# test with an empty inductor cache). xdist's `--dist worksteal` (pytest.ini) first deals the
# collection out in contiguous slices, one per worker, and later lets an idle worker take queued
# tests from the end of another's slice: so these are spread over the slices by their seconds
# (each to the slice with the fewest so far) and start first in their slice, and the run ends
# with short tests on every worker rather than a long one on one (pytest_collection_modifyitems).
LONGEST_FIRST = (
    ('tests/test_quickstart.py::test_segmentation_quickstart', 130),
    ('tests/test_quickstart.py::test_detection_quickstart', 120),
    ('tests/test_compile.py::test_compiled_outputs_and_gradients_equal_eager', 90),
    ('tests/test_analysis.py::test_benchmark_compare_measures_every_implementation', 60),
    ('tests/test_fileio.py::test_the_reader_refuses_whatever_torchs_own_refuses', 60),
    ('tests/test_compile.py::test_quickstart_trains_with_mmengine_compile', 50),
    ('tests/test_panoptic.py::test_trains_then_tests_on_toy_panoptic_data', 25),
    ('tests/test_faults.py::test_killed_run_resumes_to_the_same_weights', 25),
    ('tests/test_frameworks.py::test_trains_then_tests_on_toy_data', 20),
    ('tests/test_deployment.py::test_backbone_variants_export_with_dynamo', 20),
    ('tests/test_faults.py::test_multi_node_launch_trains_identically_on_both_nodes', 18),
    ('tests/test_detection.py::test_trains_and_tests_on_toy_data', 12),
)
# A test that shares a costly module-scoped fixture with a LONGEST_FIRST test follows it into
# its slice, so that no second worker builds the fixture again.
SAME_WORKER_AS = {
    'tests/test_fileio.py::test_rule_counterexamples_are_caught':
    'tests/test_fileio.py::test_the_reader_refuses_whatever_torchs_own_refuses',
}

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


def pytest_itemcollected(item):
    if item.nodeid.startswith(SLOW):
        item.add_marker(pytest.mark.slow)


def _prefixed(table, item):
    return next((value for prefix, value in table if item.nodeid.startswith(prefix)), None)


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` have deselected: the collection xdist deals
def pytest_collection_modifyitems(session, config, items):
    workers = max(1, int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')))
    long = sorted((item for item in items if _prefixed(LONGEST_FIRST, item) is not None),
                  key=lambda item: -_prefixed(LONGEST_FIRST, item))
    leaders = {item.nodeid: item for item in long}
    followers = {}
    for item in items:
        leader = _prefixed(SAME_WORKER_AS.items(), item)
        lead = next((i for i in long if leader and i.nodeid.startswith(leader)), None)
        if lead is not None:
            followers.setdefault(lead.nodeid, []).append(item)
    followed = {id(f) for fs in followers.values() for f in fs}
    rest = [item for item in items if item.nodeid not in leaders and id(item) not in followed]
    sizes, left = [], len(items)  # the slices xdist's worksteal deals out first
    for i in range(workers):
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    slices, seconds = [[] for _ in sizes], [0] * workers
    for item in long:
        group = [item, *followers.get(item.nodeid, [])]
        room = [i for i in range(workers) if len(slices[i]) + len(group) <= sizes[i]]
        i = min(room or range(workers), key=lambda i: seconds[i])
        slices[i] += group
        seconds[i] += _prefixed(LONGEST_FIRST, item)
    for i, size in enumerate(sizes):
        while len(slices[i]) < size and rest:
            slices[i].append(rest.pop(0))
    items[:] = [item for s in slices for item in s] + rest


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
                             cwd=ROOT,
                             capture_output=True,
                             text=True,
                             check=True).stdout
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
