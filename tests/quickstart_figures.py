"""Where the README's quickstart runs end with one thread per process (as the suite runs them),
measured on this project's machine (2-core CPU, torch 2.13.0): the data tests/test_quickstart.py
checks a run against, within the tolerances (another CPU rounds differently, and the points in
between vary more). The README's quickstart table shows these figures; a test checks that it
does."""
DETECTION = dict(row='RetinaNet PVTv2-b0', epochs=[4, 8, 12], ap50=[0.621, 0.872, 0.991], ap=0.576)
SEGMENTATION = dict(
    row='Semantic FPN PVTv2-b0', iterations=[50, 100, 150, 200], miou=[41.85, 47.40, 53.74, 57.27])
AP_TOLERANCE, MIOU_TOLERANCE = 0.06, 5.0
