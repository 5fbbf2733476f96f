# The two commands of the README, and a few helpers. Everything real lives in scripts/.
.PHONY: run test check setup services-up services-down schema bench bench-place-order bench-projector bench-lag bench-search bench-trivial bench-dataset bench-fairness bench-round-trips bench-customer-search bench-rename bench-relay bench-subscriptions bench-sustained chaos

run:  ## set up everything, then serve the API (GraphiQL) and run the projector, the payment-expiry saga and the relay
	scripts/dev.sh run

test:  ## set up everything, then every check and the whole suite, fastest first, stopping at the first failure
	scripts/dev.sh test

check:  ## the inner loop: static checks and the unit tests, no services (under a minute)
	scripts/dev.sh check

setup:  ## only install the Python environment and start the local services
	scripts/dev.sh setup

services-down:  ## stop the local PostgreSQL, Elasticsearch and Kafka
	scripts/services.sh down

schema:  ## rewrite api/schema.graphql from the served schema
	.venv/bin/twofold export-schema --output api/schema.graphql

bench:  ## every benchmark against its baseline, then docs/benchmarks.md with charts (about 50 min)
	scripts/dev.sh bench

bench-place-order:  ## placeOrder over HTTP vs plain psycopg at concurrency 8 (test-output/bench/)
	scripts/dev.sh bench-place-order

chaos:  ## 20 kill -9 of the projector, 10 of the relay and a Kafka restart, delayed commits, a poison event, service restarts; summary table
	scripts/dev.sh chaos

bench-projector:  ## projector throughput vs a plain streaming_bulk loader (test-output/bench/)
	scripts/dev.sh bench-projector

bench-lag:  ## commit-to-searchable lag at 200 writes/s, checked by search (test-output/bench/)
	scripts/dev.sh bench-lag

bench-search:  ## products search latency through GraphQL vs the direct Elasticsearch request, 50/s (test-output/bench/)
	scripts/dev.sh bench-search

bench-trivial:  ## { __typename } over HTTP vs a plain Starlette JSON route, one worker each (test-output/bench/)
	scripts/dev.sh bench-trivial

bench-dataset:  ## load and project N products and N orders through the real handlers (test-output/bench/)
	scripts/dev.sh bench-dataset

bench-fairness:  ## { __typename } p99 while another client loops the heaviest request the budget allows (test-output/bench/)
	scripts/dev.sh bench-fairness

bench-round-trips:  ## PostgreSQL and Elasticsearch round trips of one projector round (test-output/bench/)
	scripts/dev.sh bench-round-trips

bench-customer-search:  ## customers search latency through GraphQL vs the direct Elasticsearch request, 100k customers (test-output/bench/)
	scripts/dev.sh bench-customer-search

bench-relay:  ## the relay vs a plain confluent-kafka producer, and commit-to-consumed latency at 200 writes/s (test-output/bench/)
	scripts/dev.sh bench-relay

bench-subscriptions:  ## 1,000 subscriptions on one API process at 100 writes/s: delivery latency, memory, ES requests per delivery
	scripts/dev.sh bench-subscriptions

bench-sustained:  ## ten minutes of searches and writes at 80% of the search capacity: memory, open search contexts
	scripts/dev.sh bench-sustained

bench-rename:  ## a name change of a customer with 1,000 orders until the last order shows it (test-output/bench/)
	scripts/dev.sh bench-rename
