"""``runbook fleet``: one rename across many databases, in waves, on Dagster.

inventory   fleet.toml: databases (name, the NAME of their URL variable, tags), waves, limits
state       <output_dir>/state.json: where each database stands, approvals, runs
planning    each database's plan fingerprint and state (read-only): pending, held, blocked ...
worker      one database: runbook run's pipeline (notebooks) or the engine, its own archive
orchestrate the Dagster job: a gate op per wave (the failure budget), an op per database
rollout     fleet run / fleet rollback: check, place, execute, the fleet page
page        <output_dir>/index.html: verdict, databases and their archives, the rollout chart
demo        tenant databases in varied states on the embedded server

Only ``orchestrate`` imports dagster (``pip install runbook[fleet]``).
"""
