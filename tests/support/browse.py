#!/usr/bin/env python3
"""Opens a local HTML file in headless Chromium (Debian's `chromium`) with the network
blocked, and prints as JSON what a person's browser would have met: every request the page
made, the ones that failed, console errors and uncaught exceptions, and the value of a
JavaScript expression (the test's reading of the DOM). Saves a screenshot of the whole page
in the light scheme, and with a fourth argument one in the dark scheme.

    browse.py PAGE.html SCREENSHOT.png EXPRESSION [DARK.png]

It speaks the DevTools protocol over a WebSocket (PyPI's websocket-client): no driver, and
nothing leaves the machine (a proxy on a closed loopback port and a resolver that finds
nothing stand in for the network)."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket


class Page:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        self.ws.settimeout(60)
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        raise RuntimeError(f"no {method} within {seconds} s")

    def settle(self, seconds):
        """Collects what arrives in the next `seconds` (late requests, errors)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return

    def screenshot(self, path, scheme):
        self.call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": scheme}])
        self.settle(0.3)
        height = self.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=int(min(height, 6000)),
                  deviceScaleFactor=1, mobile=False)
        self.settle(0.3)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))


def main():
    page_path, shot, expression = sys.argv[1:4]
    dark = sys.argv[4] if len(sys.argv) > 4 else None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("no chromium (make test-deps installs it)")
    profile = tempfile.mkdtemp(prefix="rua-chromium-")
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or browser.poll() is not None:
                sys.exit("chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        targets = json.load(opener.open(f"http://127.0.0.1:{port}/json/list", timeout=10))
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(target["webSocketDebuggerUrl"])
        for domain in ("Network", "Runtime", "Log", "Page"):
            page.call(f"{domain}.enable")
        url = "file://" + os.path.abspath(page_path)
        page.call("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired", 30)
        page.settle(1.0)
        value = page.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in value:
            raise RuntimeError(f"the expression failed: {value['exceptionDetails']}")
        page.screenshot(shot, "light")
        if dark:
            page.screenshot(dark, "dark")
        events = page.events
        requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
        failed = [e["params"] for e in events if e.get("method") == "Network.loadingFailed"]
        console = [e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"
                   and e["params"].get("type") in ("error", "assert", "warning")]
        exceptions = [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
        logged = [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"].get("level") in ("error", "warning")]
        print(json.dumps({
            "url": url,
            "requests": requests,
            "failed": failed,
            "console": console,
            "exceptions": exceptions,
            "log": logged,
            "value": value["result"].get("value"),
        }))
    finally:
        browser.kill()
        browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
