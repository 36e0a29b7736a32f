# Lab test (sourced by tests/lab/run-in-lab): lanyard-bench discovery runs twice per contender
# in this lab and prints the documented JSON. Needs BENCH and SHAPE_CHECK in the environment.
bash "$SHAPE_CHECK" discovery "$BENCH" discovery --runs 2 --json || exit 1
