# Two commands for everyone: `make run` and `make test`. Everything else is set-up they share.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app run
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run run-school test test-postgres-all setup deps dev-deps weights db browser bench bench-deps bench-reports clean

run: setup
	$(BIN)/python run.py

# A school's process model on this machine (docs/DEPLOY.md): 2 web processes on one port, 2 camera
# workers, 1 job worker, on PostgreSQL (DATABASE_URL, created if missing) and Redis (REDIS_URL).
run-school: setup
	$(BIN)/python deploy/run_school.py

# The suite runs on SQLite and again on PostgreSQL where a server answers (each app gets a schema
# of its own there, dropped at the end). In CI a missing server is an error, not a skip.
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# The two passes run at the same time (most of a test waits on video pacing, SMTP or the browser):
# the PostgreSQL pass keeps its own temporary folder and log, printed when both are done.
PG_BASETEMP := /tmp/rollcall-pytest-postgres-$(shell id -u)
PG_LOG := $(VENV)/pytest-postgres.log
# The PostgreSQL pass leaves out what never touches a database (the vision pipeline's own tests) and
# the two slowest runs whose database writes other tests make too (the browser journey, the classroom
# video); `make test-postgres-all` runs every test there.
PG_SKIP := $(addprefix --ignore=tests/,e2e test_classroom.py test_detector.py test_sources.py test_tracker.py \
	test_detection_schedule.py test_preprocess.py test_recognizer.py test_strangers.py test_camera.py \
	test_camera_dlib.py test_pixel_pipeline.py test_recognition_budget.py test_features.py)

test: setup dev-deps browser
	@pg=""; pgrc=0; \
	if $(BIN)/python -m tests.postgres "$(PG_TEST_URL)"; then \
		pg=1; echo "== the PostgreSQL pass ($(PG_TEST_URL), without the vision-only tests) runs beside the SQLite pass; its output follows"; \
		ROLLCALL_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest -p no:cacheprovider \
			--basetemp="$(PG_BASETEMP)" $(PG_SKIP) > "$(PG_LOG)" 2>&1 & pgpid=$$!; \
	elif [ -n "$$CI" ]; then echo "error: no PostgreSQL answers at $(PG_TEST_URL); CI runs the suite on it"; exit 1; \
	else echo "note: no PostgreSQL at $(PG_TEST_URL): the suite runs on SQLite only"; fi; \
	$(BIN)/python -m pytest; sqliterc=$$?; \
	if [ -n "$$pg" ]; then wait $$pgpid; pgrc=$$?; echo "== the suite on PostgreSQL:"; cat "$(PG_LOG)"; fi; \
	echo "== SQLite pass exit $$sqliterc, PostgreSQL pass exit $$pgrc"; \
	[ $$sqliterc -eq 0 ] && [ $$pgrc -eq 0 ]

setup: deps weights db

deps: $(RUN_STAMP)
$(RUN_STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

dev-deps: $(DEV_STAMP)
$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

weights: deps
	$(FLASK) fetch-models

db: deps
	$(FLASK) init-db

# The browser tests drive Debian's Chromium; install it when we may (root with apt), else they skip.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; browser tests will skip"; \
	else echo "note: chromium not installed and not root; browser tests will skip"; fi

test-postgres-all: setup dev-deps browser
	ROLLCALL_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest

# Benchmarks run in their own venv: cv2.face needs opencv-contrib, which must never reach the app's
# requirements. Same OpenCV 4.x version as the app (5.x has no Caffe importer), contrib build.
BENCH_VENV := bench/.venv-bench
BENCH_BIN := $(BENCH_VENV)/bin
BENCH_STAMP := $(BENCH_VENV)/.installed

bench-deps: $(BENCH_STAMP)
$(BENCH_STAMP): requirements.txt bench/requirements-bench.txt
	test -x $(BENCH_BIN)/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/python -m pip install -q --upgrade pip
	$(BENCH_BIN)/python -m pip install -q -r requirements.txt -r bench/requirements-bench.txt
	v=$$($(BENCH_BIN)/python -c "import importlib.metadata as m; print(m.version('opencv-python-headless'))") && \
	$(BENCH_BIN)/python -m pip uninstall -q -y opencv-python-headless && \
	$(BENCH_BIN)/python -m pip install -q --force-reinstall --no-deps "opencv-contrib-python-headless==$$v"
	$(BENCH_BIN)/python -c "import cv2; cv2.face.LBPHFaceRecognizer_create(); print('bench venv: OpenCV', cv2.__version__, 'with contrib')"
	touch $@

bench: weights bench-deps
	$(BENCH_BIN)/python bench/bench_recognition.py
	$(BENCH_BIN)/python bench/bench_detector.py

# Report pages at 100,000 attendance records (main venv: no OpenCV contrib needed).
bench-reports: deps
	$(BIN)/python bench/bench_reports.py

clean:
	rm -rf $(VENV) .pytest_cache
