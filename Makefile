# Akhbar: every target works from a fresh clone; scripts/ holds the steps.
SHELL := /bin/bash
.PHONY: install demo test run bench bench-extraction es-start es-stop kibana-import clean

install:  ## uv, the locked environment, Airflow's metadata DB
	@bash scripts/bootstrap.sh

demo: install  ## one cycle over the bundled sample outlets, offline
	@source scripts/env.sh && akhbar es start && akhbar demo

test:  ## the whole suite against a local Elasticsearch (started and stopped here)
	@bash scripts/test.sh

run:  ## local Elasticsearch + airflow standalone with akhbar_ingest unpaused
	@bash scripts/run.sh

bench: install  ## the whole pipeline over 2,000 generated pages on loopback, with the two references (docs/performance.md)
	@source scripts/env.sh && akhbar es start && python bench/e2e.py --pages 2000

bench-extraction: install  ## extraction quality on the golden set: the project against plain trafilatura
	@source scripts/env.sh && python bench/extraction_quality.py

es-start: install
	@source scripts/env.sh && akhbar es start

es-stop:
	@source scripts/env.sh && akhbar es stop

kibana-import: install  ## the saved objects of docker/kibana/ into KIBANA_URL (KIBANA_API_KEY or KIBANA_USER/KIBANA_PASSWORD)
	@source scripts/env.sh && akhbar kibana import

clean:
	rm -rf .cache/staging .cache/demo
