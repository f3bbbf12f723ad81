# The two commands of the README. Each sets up what it needs on first use and nothing after:
#   make book   build the book strictly into book/_build/html (creates .venv if it is missing)
#   make test   run the whole test suite (installs the Debian packages and .venv if missing)
# Also: make pdf (the PDF manuscript), make clean (remove builds and the environment).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test pdf system-deps clean

book: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going book/

# The manuscript PDF, book/_build/latex/il2-sle-review.pdf (README, "PDF manuscript").
pdf: $(STAMP) system-deps
	$(BIN)/jupyter-book build -W -n --keep-going book/ --builder pdflatex
	@echo "PDF manuscript: book/_build/latex/il2-sle-review.pdf"

test: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# Checks what is installed and installs only what is missing (as root, or with sudo).
system-deps:
	@bash .ci/system-deps

# Re-installed only when the pinned requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

clean:
	rm -rf book/_build .cache $(VENV)
