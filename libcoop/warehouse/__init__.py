"""validate -> publish: the private build a run works in, its atomic publication and rollback,
and the data-quality history of runs that were not published."""
