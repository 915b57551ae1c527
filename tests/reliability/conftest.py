"""The browser tests' Chromium fixtures, shared with the reliability tests that drive the app."""

from tests.browser.conftest import browser, page  # noqa: F401 (pytest finds fixtures by name)
