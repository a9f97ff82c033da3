"""libcoop: the warehouse of international library cooperation."""
