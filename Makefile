# Two entry points: `make demo` and `make test` (see README.md).
# PYTHON picks the interpreter (3.11 to 3.13), e.g. `make test PYTHON=python3.13`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test qa lint browser setup messages axe sr vnu java

# A .venv made by another Python (or left broken) is made again, never kept.
WANTED := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
FOUND := $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(WANTED),)
$(error $(PYTHON) does not run: install Python 3.11 to 3.13, or set PYTHON=/path/to/python3)
endif
ifneq ($(wildcard $(VENV)),)
ifneq ($(FOUND),$(WANTED))
$(info $(VENV) was made with Python "$(FOUND)", not $(PYTHON) ($(WANTED)): making it again)
$(shell rm -rf $(VENV))
endif
endif

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  rm -rf $(VENV); \
	  echo "Could not make $(VENV): on Debian or Ubuntu, run: apt-get install -y python3-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# The PDFs are laid out by Pango and printed in DejaVu Sans (Debian's packages).
	@{ $(BIN)/python -c "import weasyprint" 2>/dev/null && fc-list | grep -q "DejaVu Sans"; } || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fontconfig; }
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium: Playwright's own browser download is not used.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

demo: $(STAMP)
	$(BIN)/python app.py --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The accessibility checks run the axe-core release pinned in e2e/axe-core.pin (version and
# the npm tarball's sha512), fetched from the npm registry once and checked (touched: the
# tarball's files carry a 1985 date, which would make it older than the pin at every run).
AXE_VERSION := $(word 1,$(shell cat e2e/axe-core.pin))
AXE_INTEGRITY := $(word 2,$(shell cat e2e/axe-core.pin))
AXE := $(VENV)/axe-core-$(AXE_VERSION).min.js

# One file out of a pinned npm package: $(call npm_file,package,version,sha512,path in the
# package,destination). The tarball's sha512 must be the pinned one; the file is written
# whole (a .part renamed) or not at all.
define npm_file
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent $(1)@$(2) >/dev/null && \
	  found="sha512-$$($(CURDIR)/$(BIN)/python -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' $(1)-$(2).tgz)" && \
	  if [ "$$found" != "$(3)" ]; then echo "$(1) $(2): $$found is not the pinned $(3)"; rm -rf $$tmp; exit 1; fi && \
	  tar xzf $(1)-$(2).tgz package/$(4) && \
	  mv package/$(4) $(abspath $(5)).part && mv $(abspath $(5)).part $(abspath $(5)) && \
	  touch $(abspath $(5)) && \
	  cd / && rm -rf $$tmp
endef

$(AXE): e2e/axe-core.pin | $(STAMP)
	$(call npm_file,axe-core,$(AXE_VERSION),$(AXE_INTEGRITY),axe.min.js,$(AXE))
	@echo "axe-core $(AXE_VERSION) in $(AXE)"

axe: $(AXE)

# The virtual screen reader that writes each state's spoken transcript: the npm packages
# pinned by e2e/screen-reader/package-lock.json (npm ci checks their integrity), bundled
# once into one script the suite runs in the page.
SR := $(VENV)/virtual-screen-reader.js

$(SR): e2e/screen-reader/package.json e2e/screen-reader/package-lock.json | $(STAMP)
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	@tmp=$$(mktemp -d) && cp e2e/screen-reader/package.json e2e/screen-reader/package-lock.json $$tmp/ && \
	  (cd $$tmp && npm ci --silent --no-audit --no-fund && \
	   ./node_modules/.bin/esbuild node_modules/@guidepup/virtual-screen-reader/lib/esm/index.browser.js \
	     --bundle --minify --format=iife --global-name=window.VirtualScreenReader \
	     --log-level=warning --outfile=$(CURDIR)/$(SR)) && rm -rf $$tmp
	@echo "virtual screen reader in $(SR)"

sr: $(SR)

# The JUnit file goes into the report folder beside index.html (copied there at the end).
JUNIT := build/junit.xml

# The Nu HTML Checker (RGAA 8.2): the npm package vnu-jar pinned in e2e/vnu-jar.pin (version
# and the npm tarball's sha512), its jar taken out once to $(VNU_JAR) (its own post-install
# download is not used), run by Debian's Java. The suite finds it there, or at $$VNU_JAR.
VNU_VERSION := $(word 1,$(shell cat e2e/vnu-jar.pin))
VNU_INTEGRITY := $(word 2,$(shell cat e2e/vnu-jar.pin))
VNU_JAR ?= $(VENV)/vnu.jar

$(VNU_JAR): e2e/vnu-jar.pin | $(STAMP)
	$(call npm_file,vnu-jar,$(VNU_VERSION),$(VNU_INTEGRITY),build/dist/vnu.jar,$(VNU_JAR))
	@echo "Nu HTML Checker $(VNU_VERSION) in $(VNU_JAR)"

# Debian's Java runs it (OpenJDK 17 on Debian 12).
java:
	@command -v java >/dev/null 2>&1 || { \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless; }

vnu: $(VNU_JAR) java

# Three test processes on two cores: a browser test leaves its core idle a third of
# the time (Chromium, the database and the network answer), which a third one uses.
test: $(STAMP) browser lint $(AXE) $(SR) vnu
	VNU_JAR="$(abspath $(VNU_JAR))" $(BIN)/python -m pytest -n 3 --junitxml $(JUNIT)

# The accessibility states against a running instance, for QA teams:
#   make qa BASE_URL=https://cmi-recette.example.org QA_SECRET=...
# The instance runs with --demo and the same QA_SECRET (README, « QA »): each test
# process works in a sandbox of its own there, fresh demo personas for each test,
# removed at the end of the run. QA_WORKERS browsers run side by side (default 3).
QA_WORKERS ?= 3
qa: $(STAMP) browser $(AXE) $(SR) vnu
	@test -n "$(BASE_URL)" || { echo "usage: make qa BASE_URL=https://... QA_SECRET=..."; exit 2; }
	QA_SECRET="$(QA_SECRET)" VNU_JAR="$(abspath $(VNU_JAR))" $(BIN)/python -m pytest e2e --base-url "$(BASE_URL)" \
	  -n $(QA_WORKERS) -q --junitxml $(JUNIT)

# After changing a text: the catalogue gains the new ones (then translate them in
# views/translations/en/LC_MESSAGES/messages.po; a test fails until every one is).
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 --sort-by-file \
	  --no-wrap --add-location=file --project cmi-duplicata -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d views/translations -l en \
	  --no-wrap --no-fuzzy-matching --ignore-obsolete
