"""load -> staging -> intermediate -> marts: run the dbt project on a build, its docs, and the
review list of names the alias seeds did not resolve."""
