"""A PostgreSQL dump restored into another schema: statements are renamed, COPY data is not."""

from __future__ import annotations

from ops.backup.remap import SchemaRemap

SCRIPT = """\
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA t_src;
ALTER SCHEMA t_src OWNER TO root;
CREATE TABLE t_src.marks (
    id text NOT NULL,
    note text DEFAULT nextval('t_src.change_seq_id_seq'::regclass)
);
COPY t_src.marks (id, note) FROM stdin;
m1\tsee t_src.marks in the text
\\.
SELECT pg_catalog.setval('t_src.change_seq_id_seq', 5, true);
ALTER TABLE ONLY t_src.marks ADD CONSTRAINT marks_pkey PRIMARY KEY (id);
CREATE INDEX ix ON xt_src.other USING btree (id);
"""


def _run(remap: SchemaRemap, text: str) -> str:
    out = (remap(line) for line in text.splitlines(keepends=True))
    return "".join(line for line in out if line is not None)


def test_statements_move_to_the_target_and_data_stays_as_it_was() -> None:
    out = _run(SchemaRemap("t_src", "t_dst"), SCRIPT)
    assert "CREATE SCHEMA" not in out and "ALTER SCHEMA" not in out
    assert 'CREATE TABLE "t_dst".marks' in out
    assert "nextval('\"t_dst\".change_seq_id_seq'::regclass)" in out
    assert 'COPY "t_dst".marks (id, note) FROM stdin;' in out
    assert "m1\tsee t_src.marks in the text\n" in out  # a value is never rewritten
    assert "setval('\"t_dst\".change_seq_id_seq', 5, true)" in out
    assert 'ALTER TABLE ONLY "t_dst".marks' in out
    assert "xt_src.other" in out  # another name that merely ends the same way
    assert out.count("t_src") == 2  # the value and the other name: nothing else


def test_a_quoted_schema_name() -> None:
    out = _run(SchemaRemap("Mixed Case", "public"), 'CREATE TABLE "Mixed Case".t (id int);\n')
    assert out == 'CREATE TABLE "public".t (id int);\n'
