"""Take the screenshots in docs/images/ from a real Airflow UI and a real local Flyte admin.

Run by hand, from the repository root, and commit what it writes::

    .venv/bin/pip install -e '.[docs]'      # selenium (a docs-only dependency)
    .venv/bin/python docs/screenshots.py    # about a minute; writes docs/images/*.png

Prerequisites, which this script checks but does not install:

* Debian's Chromium and its driver: ``apt-get install -y chromium chromium-driver``
  (``/usr/bin/chromium`` and ``/usr/bin/chromedriver``, the same version), driven headless;
* ``selenium`` from PyPI in this venv (the ``docs`` extra);
* this package and Airflow 3.3 in the venv the script runs from (``make venv``).

What it does:

1. starts ``flyte-local-admin`` on a free port with the example workflows
   (``example_dags/flyte_workflows/ml_workflow.py`` and ``publish_workflow.py``) and one more,
   ``slow_training.py``, written to a temporary folder: a training step that sleeps, so a task
   stays deferred long enough to be photographed (every example DAG finishes in seconds);
2. starts real Airflow processes in a temporary AIRFLOW_HOME on SQLite (api-server, scheduler with
   the LocalExecutor, dag-processor, triggerer), with ``AIRFLOW__CORE__DAGS_FOLDER=example_dags``
   plus a second DAG bundle (the temporary folder) holding ``flyte_slow_training``, and creates
   the ``flyte_conn`` connection with the ``airflow connections add`` line the admin prints;
3. ``connection-form.png``: Admin -> Connections -> Add Connection with type **Flyte**, filled with
   the admin's connection and its Extra Fields open (Project, Domain, Auth mode, Insecure, ...),
   not saved. Not the edit form of ``flyte_conn``: Airflow's edit form lists only the extra fields
   a connection has set. The dialog is taller than the window, so that capture makes the page
   taller for a moment (same width) and clips to the dialog;
4. ``task-with-flyte-link.png``: the deferred ``train_model`` task of a ``flyte_slow_training``
   run (triggered through the REST API), with its **Flyte Execution** button;
5. ``flyte-console.png``: the local admin's console page that button opens;
6. stops everything and deletes the temporary folder.

``--keep`` leaves everything running after the screenshots, printing the URLs, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1440, 1000)
MAX_BYTES = 300_000

sys.path.insert(0, str(REPO))
from tests.airflow_processes import BIN, Airflow, airflow_env, free_port, wait_for  # noqa: E402

DAG_ID = "flyte_slow_training"
TASK_ID = "train_model"
SLEEP_SECONDS = 600.0

WORKFLOW = '''\
"""A training step that takes its time: for docs/screenshots.py (a task that stays deferred)."""

import time

from flytekit import task, workflow


@task
def prepare(k: int) -> int:
    return k


@task
def train(k: int, seconds: float) -> float:
    time.sleep(seconds)
    return 0.97


@workflow
def slow_training(k: int = 5, seconds: float = 60.0) -> float:
    return train(k=prepare(k=k), seconds=seconds)
'''

DAG = f'''\
"""One deferrable FlyteOperator on a slow workflow: for docs/screenshots.py."""

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG(
    dag_id={DAG_ID!r},
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["flyte"],
):
    FlyteOperator(
        task_id={TASK_ID!r},
        flyte_conn_id="flyte_conn",
        launchplan_name="slow_training.slow_training",
        inputs={{"k": 5, "seconds": "{{{{ dag_run.conf['seconds'] }}}}"}},
        deferrable=True,
    )
'''


def check_prerequisites() -> None:
    missing = []
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            missing.append(f"{path} (Debian package {package}: apt-get install -y chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append(f"selenium in {sys.executable} (pip install -e '.[docs]')")
    if not (BIN / "airflow").exists() or not (BIN / "flyte-local-admin").exists():
        missing.append(f"airflow and flyte-local-admin next to {sys.executable} (run it with the venv's python)")
    if missing:
        sys.exit("docs/screenshots.py needs:\n  " + "\n  ".join(missing))


# --- the local Flyte admin ------------------------------------------------------------------------


class Admin:
    """``flyte-local-admin`` in its own process group; the lines it prints up to the connection."""

    def __init__(self, workflows: list[Path], log: Path) -> None:
        self.port = free_port()
        args = [str(BIN / "flyte-local-admin"), "--port", str(self.port), "--workflows", *map(str, workflows)]
        self.popen = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._log = log
        threading.Thread(target=self._read, daemon=True).start()
        self.printed = self._wait_for_connection_line()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        with self._log.open("w") as log:
            for line in self.popen.stdout:
                log.write(line)
                log.flush()
                self.lines.put(line)
        self.lines.put(None)

    def _wait_for_connection_line(self, timeout: float = 180.0) -> list[str]:
        printed: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"flyte-local-admin printed no connection in {timeout:.0f}s: {printed}") from None
            if line is None:
                raise RuntimeError(f"flyte-local-admin exited: {''.join(printed)}")
            printed.append(line.rstrip("\n"))
            if line.strip().startswith("airflow connections add "):
                return printed

    @property
    def connections_add(self) -> list[str]:
        """The printed ``airflow connections add ...`` line, as argv."""
        return shlex.split(next(line for line in self.printed if line.strip().startswith("airflow connections add")))

    @property
    def connection(self) -> dict:
        """The printed line's options: ``{"host": ..., "port": ..., "extra": {...}}``."""
        argv = self.connections_add
        options = {key.removeprefix("--conn-"): value for key, value in zip(argv[4::2], argv[5::2], strict=True)}
        return {**options, "extra": json.loads(options.get("extra", "{}"))}

    @property
    def console(self) -> str:
        return next(line.split(": ", 1)[1] for line in self.printed if line.startswith("Console: "))

    def stop(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


# --- Airflow ------------------------------------------------------------------------------------


def start_airflow(home: Path, dags: Path, admin: Admin) -> Airflow:
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    bundles = [
        {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}},
        {
            "name": "screenshots",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(dags)},
        },
    ]
    env = airflow_env(
        home,
        api_port,
        REPO / "example_dags",
        settings={"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles)},
    )
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "timeout": 300}
    print("airflow db migrate", flush=True)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], **quiet)
    add = admin.connections_add
    print("$", shlex.join(add), flush=True)
    subprocess.run([str(BIN / "airflow"), *add[1:]], **quiet)

    airflow = Airflow(home, env, api)
    airflow.start("api-server", "--port", str(api_port), "--host", "127.0.0.1")
    airflow.start("dag-processor")
    airflow.start("scheduler", "--skip-serve-logs")
    airflow.start("triggerer", "--skip-serve-logs")
    print(f"Airflow starting: {api}", flush=True)
    return airflow


# --- the browser ----------------------------------------------------------------------------------


def start_browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    return driver


def capture(driver, name: str, clip: dict | None = None) -> Path:
    """A PNG of the viewport, or of ``clip`` (CSS pixels), scaled down until it is at most 300 KB."""
    if clip is None:
        width, height = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        clip = {"x": 0, "y": 0, "width": width, "height": height}
    for scale in (1.0, 0.85, 0.7, 0.6, 0.5):
        params = {"format": "png", "clip": {**clip, "scale": scale}}
        data = base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"])
        if len(data) <= MAX_BYTES:
            break
    else:
        raise RuntimeError(f"{name} stays over {MAX_BYTES // 1000} KB even at half size")
    path = IMAGES / name
    path.write_bytes(data)
    print(f"wrote {path.relative_to(REPO)} ({len(data) // 1000} KB, scale {scale})", flush=True)
    return path


def tall_viewport(driver, height: int) -> None:
    """Make the page ``height`` CSS pixels tall (same width), so a long dialog or page fits whole."""
    width = driver.execute_script("return window.innerWidth")
    params = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", params)
    time.sleep(1.0)  # layout and the dialog's transition settle


def normal_viewport(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def around(rect: dict, margin: int = 20) -> dict:
    return {
        "x": max(0, rect["x"] - margin),
        "y": max(0, rect["y"] - margin),
        "width": rect["width"] + 2 * margin,
        "height": rect["height"] + 2 * margin,
    }


# --- the screenshots ------------------------------------------------------------------------------


def act(driver, xpath: str, do, timeout: float = 90.0):
    """Find ``xpath`` and ``do(element)`` until that works, returning the element: React re-renders
    and the dialog's opening animation make elements stale or not yet interactable for a moment."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    transient = (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )

    def attempt(_):
        try:
            element = driver.find_element(By.XPATH, xpath)
            if not element.is_displayed():
                return False
            do(element)
            return element
        except transient:
            return False

    return WebDriverWait(driver, timeout, poll_frequency=0.3).until(attempt, f"could not act on {xpath}")


def type_into(driver, xpath: str, text: str) -> None:
    """Type ``text`` into the empty input at ``xpath`` (once, however often finding it is retried)."""
    from selenium.webdriver.support.ui import WebDriverWait

    element = act(driver, xpath, lambda e: e.get_attribute("value") == "" and e.send_keys(text))
    WebDriverWait(driver, 10).until(lambda _: element.get_attribute("value") == text, f"{xpath} to hold {text!r}")


def connection_form(driver, api: str, admin: Admin) -> Path:
    """Admin -> Connections -> Add Connection, type Flyte, filled with what the admin printed, the
    Extra Fields section open (the edit form of an existing connection lists only the extra fields
    it has set, so the Add form is the one that shows them all)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    dialog = "//div[@role='dialog']"
    connection = admin.connection
    extra = connection["extra"]
    driver.get(f"{api}/connections")
    act(driver, "//button[normalize-space()='Add Connection']", lambda e: e.click())
    type_into(driver, f"{dialog}//input[@name='connection_id']", "flyte_conn")
    kind = act(driver, f"{dialog}//input[@role='combobox']", lambda e: e.send_keys("Flyte"))
    option = "//*[starts-with(@id, 'react-select-') and contains(@id, '-option-') and normalize-space()='Flyte']"
    act(driver, option, lambda e: None)
    kind.send_keys(Keys.ENTER)

    type_into(driver, f"{dialog}//input[@name='host']", connection["host"])
    type_into(driver, f"{dialog}//input[@name='port']", str(connection["port"]))
    act(driver, f"{dialog}//button[normalize-space()='Extra Fields']", lambda e: e.click())
    type_into(driver, f"{dialog}//input[@name='element_project']", extra["project"])
    type_into(driver, f"{dialog}//input[@name='element_domain']", extra["domain"])
    if extra.get("insecure"):
        switch = driver.find_element(By.XPATH, f"{dialog}//input[@name='element_insecure']")
        act(driver, f"{dialog}//label[@for='{switch.get_attribute('id')}' and @data-part='root']", lambda e: e.click())
        act(driver, f"{dialog}//input[@name='element_insecure']", lambda e: e.is_selected() or None)
    driver.execute_script("document.activeElement.blur()")  # no focus ring, no caret

    tall_viewport(driver, 2600)
    box = driver.find_element(By.XPATH, dialog).rect
    path = capture(driver, "connection-form.png", around(box, margin=0))
    normal_viewport(driver)
    return path


def task_with_link(driver, api: str, airflow: Airflow, run_id: str) -> str:
    """The Details tab of the deferred task: its Extra Links, the Flyte Execution button; its URL."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    links = f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/links"
    url = wait_for(
        "the Flyte Execution link",
        lambda: (airflow.get_or_none(links) or {}).get("extra_links", {}).get("Flyte Execution"),
    )
    driver.get(f"{api}/dags/{DAG_ID}/runs/{run_id}/tasks/{TASK_ID}/details")
    wait = WebDriverWait(driver, 90)
    button = wait.until(ec.visibility_of_element_located((By.XPATH, "//a[normalize-space()='Flyte Execution']")))
    wait.until(ec.visibility_of_element_located((By.XPATH, "//*[normalize-space()='Assigned triggerer']")))
    assert button.get_attribute("href") == url, (button.get_attribute("href"), url)
    assert airflow.ti_state(run_id, TASK_ID, dag_id=DAG_ID) == "deferred"
    time.sleep(2.0)  # the rest of the tab's queries
    capture(driver, "task-with-flyte-link.png")
    return url


def console_page(driver, url: str) -> Path:
    """The local admin's console page of the running execution, the page the button opens."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.XPATH, "//*[text()='RUNNING']")))
    height, width = driver.execute_script(
        "const r = [...document.body.children].map(e => e.getBoundingClientRect().right);"
        "return [document.documentElement.scrollHeight, Math.max(...r)]"
    )
    tall_viewport(driver, height)
    path = capture(driver, "flyte-console.png", {"x": 0, "y": 0, "width": min(width + 32, WINDOW[0]), "height": height})
    normal_viewport(driver)
    return path


# --- main -----------------------------------------------------------------------------------------


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave everything running afterwards, until Ctrl-C")
    args = parser.parse_args()
    check_prerequisites()
    # Ctrl-C and SIGTERM (even when started in the background, where SIGINT is ignored) stop
    # everything through the finally below; the Airflow processes run in their own sessions.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    IMAGES.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="flyte-screenshots-"))
    workflows, dags, home = tmp / "workflows", tmp / "dags", tmp / "airflow-home"
    for folder in (workflows, dags, home):
        folder.mkdir()
    (workflows / "slow_training.py").write_text(WORKFLOW)
    (dags / f"{DAG_ID}.py").write_text(DAG)

    admin = airflow = driver = None
    try:
        example_workflows = REPO / "example_dags" / "flyte_workflows"
        print("starting flyte-local-admin", flush=True)
        admin = Admin(
            [
                example_workflows / "ml_workflow.py",
                example_workflows / "publish_workflow.py",
                workflows / "slow_training.py",
            ],
            tmp / "flyte-local-admin.log",
        )
        print("\n".join(admin.printed), flush=True)
        airflow = start_airflow(home, dags, admin)
        airflow.wait_healthy(timeout=240)
        airflow.wait_for_dag(DAG_ID, timeout=240)
        run_id = "docs-screenshot"
        airflow.trigger(run_id, dag_id=DAG_ID, conf={"seconds": SLEEP_SECONDS})
        print(f"triggered {DAG_ID} run {run_id}", flush=True)

        driver = start_browser(tmp / "chromium-profile")
        connection_form(driver, airflow.api, admin)
        airflow.wait_for_ti(run_id, {"deferred"}, timeout=240, dag_id=DAG_ID, task_id=TASK_ID)
        url = task_with_link(driver, airflow.api, airflow, run_id)
        console_page(driver, url)

        if args.keep:
            print(
                f"Airflow UI: {airflow.api}\nFlyte console: {admin.console}\nCtrl-C (or SIGTERM) stops everything",
                flush=True,
            )
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    except BaseException:
        if airflow is not None:
            print(airflow.diagnostics(), file=sys.stderr)
        if admin is not None:
            print(textwrap.indent((tmp / "flyte-local-admin.log").read_text()[-4000:], "admin| "), file=sys.stderr)
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # let the cleanup finish
        if driver is not None:
            try:
                driver.quit()
            except Exception as error:  # chromedriver got the terminal's Ctrl-C too
                print(f"closing the browser: {error!r}", file=sys.stderr)
        if airflow is not None:
            airflow.stop_all()
        if admin is not None:
            admin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
