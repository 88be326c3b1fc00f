-- First start of the compose Postgres: the two roles of EV-2. The migrating role owns the
-- schema; the runtime role gets rights through the docuvault_runtime group, which the
-- first migration creates and grants.
create role docuvault_migrate login createrole password 'docuvault_migrate';
create role docuvault_app login password 'docuvault_app';
create database docuvault owner docuvault_migrate;
