/* vagt items: what the robot.items database knows, without the citizens' data
 * (README "Work items: robot.items").
 *
 *   vagt items list --batch NAME [--items-db FILE]
 *   vagt items who --batch NAME [--items-db FILE] FIELD=VALUE... | --key VALUE | --item TEXT
 *
 * list prints each item of a batch by its row number (seq), state, attempts, the run that
 * last changed it and when: never its key nor its reason (an error message may quote the
 * data). who answers an access or erasure request: it builds the item's content from the
 * fields given (the CSV header's names and the row's values, every field of the row) as
 * robot.items does, hashes it with the installation's key, and prints the runs that entered
 * and finished that item (item_runs) with their states and times, and its row number and
 * state now. It prints nothing of the person's data, not even what was typed. --key VALUE
 * for a batch whose script named a key field; --item TEXT for a list of strings. The
 * database is $VAGT_ITEMS_DB unless --items-db, else runs/items.db. Exit 0; 1 when the
 * batch or the item is not there; 2 for a bad argument; 4 when the database or its key
 * file cannot be used. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "items.h"
#include "run.h"

static void items_usage(FILE *f)
{
  fputs("usage: vagt items list --batch NAME [--items-db FILE]\n"
        "       vagt items who --batch NAME [--items-db FILE] FIELD=VALUE...\n"
        "       vagt items who --batch NAME [--items-db FILE] --key VALUE | --item TEXT\n"
        "  list: each item of the batch by row number, state, attempts, the run that last\n"
        "  changed it, when. who: the runs that entered and finished the item with these\n"
        "  fields (all the row's fields, the CSV header's names), --key (a batch whose\n"
        "  script gives opts.key) or --item (a list of strings). FILE: default\n"
        "  $VAGT_ITEMS_DB, else runs/items.db. Neither prints an item's data.\n",
        f);
}

static const char *col(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "-";
}

static int batch_exists(sqlite3 *db, const char *batch)
{
  sqlite3_stmt *st = NULL;
  int n = 0;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM items WHERE batch=?", -1, &st, NULL) ==
      SQLITE_OK) {
    sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return n;
}

static int list(sqlite3 *db, const char *batch)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, state, attempts, run, updated FROM items "
                         "WHERE batch=? ORDER BY seq, rowid",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "vagt items: %s\n", sqlite3_errmsg(db));
    return RT_EXIT_ENV;
  }
  sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n++ == 0)
      printf("seq\tstate\tattempts\trun\tupdated\n");
    printf("%lld\t%s\t%d\t%s\t%s\n", (long long)sqlite3_column_int64(st, 0), col(st, 1),
           sqlite3_column_int(st, 2), col(st, 3), col(st, 4));
  }
  sqlite3_finalize(st);
  if (n == 0) {
    fprintf(stderr, "vagt items: batch '%s' has no items in this database\n", batch);
    return RT_EXIT_SCRIPT;
  }
  return 0;
}

/* The item's row: seq and state, false when there is none. */
static bool item_row(sqlite3 *db, const char *batch, const char *key, long long *seq, char *state,
                     size_t n)
{
  sqlite3_stmt *st = NULL;
  bool found = false;
  if (sqlite3_prepare_v2(db, "SELECT seq, state FROM items WHERE batch=? AND key=?", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
      found = true;
      *seq = sqlite3_column_int64(st, 0);
      snprintf(state, n, "%s", col(st, 1));
    }
  }
  sqlite3_finalize(st);
  return found;
}

static int who(sqlite3 *db, const char *batch, const char *key)
{
  long long seq = 0;
  char state[32];
  if (!item_row(db, batch, key, &seq, state, sizeof state)) {
    fprintf(stderr,
            "vagt items: batch '%s' has no such item (or it was pruned). Give every "
            "field of the row, named as in the CSV header, with its value exactly; "
            "--key VALUE when the script gives opts.key\n",
            batch);
    return RT_EXIT_SCRIPT;
  }
  printf("batch %s, row %lld: %s now\n", batch, seq, state);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT at, state, run FROM item_runs WHERE batch=? AND key=? "
                         "ORDER BY at, rowid",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "vagt items: %s\n", sqlite3_errmsg(db));
    return RT_EXIT_ENV;
  }
  sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n++ == 0)
      printf("at\tstate\trun\n");
    printf("%s\t%s\t%s\n", col(st, 0), col(st, 1), col(st, 2));
  }
  sqlite3_finalize(st);
  if (n == 0)
    printf("no run history (the item was last changed before vagt kept one)\n");
  return 0;
}

int cli_items(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    items_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? RT_EXIT_USAGE : 0;
  }
  const char *sub = argv[1];
  bool is_who = strcmp(sub, "who") == 0;
  if (!is_who && strcmp(sub, "list") != 0) {
    fprintf(stderr, "vagt items: unknown command '%s' (list or who)\n", sub);
    items_usage(stderr);
    return RT_EXIT_USAGE;
  }
  static const struct option longopts[] = {
      {"batch", required_argument, 0, 'b'}, {"items-db", required_argument, 0, 'i'},
      {"key", required_argument, 0, 'k'},   {"item", required_argument, 0, 't'},
      {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
  };
  const char *batch = NULL, *dbp = NULL, *keyv = NULL, *item = NULL;
  optind = 1;
  opterr = 0;
  int o, sargc = argc - 1;
  char **sargv = argv + 1; /* from the subcommand: getopt moves the operands to the end */
  while ((o = getopt_long(sargc, sargv, "h", longopts, NULL)) != -1) {
    switch (o) {
      case 'b': batch = optarg; break;
      case 'i': dbp = optarg; break;
      case 'k': keyv = optarg; break;
      case 't': item = optarg; break;
      case 'h': items_usage(stdout); return 0;
      default:
        if (optopt == 'b' || optopt == 'i' || optopt == 'k' || optopt == 't')
          fprintf(stderr, "vagt items: %s needs a value\n", sargv[optind - 1]);
        else
          fprintf(stderr, "vagt items: unknown argument '%s'\n", sargv[optind - 1]);
        items_usage(stderr);
        return RT_EXIT_USAGE;
    }
  }
  /* the operands: FIELD=VALUE */
  size_t nf = 0;
  rt_items_part *parts = calloc((size_t)argc, sizeof *parts);
  if (!parts)
    return RT_EXIT_ENV;
  int rc = RT_EXIT_USAGE;
  for (int i = optind; i < sargc; i++) {
    /* never echoed: an operand holds the citizen's data */
    const char *a = sargv[i], *eq = strchr(a, '=');
    if (!eq || eq == a) {
      fprintf(stderr, "vagt items: an item is given as FIELD=VALUE (the %d. is not)\n",
              (int)nf + 1);
      goto out;
    }
    for (size_t k = 0; k < nf; k++)
      if ((size_t)(eq - a) + 1 <= parts[k].len &&
          memcmp(parts[k].s, a, (size_t)(eq - a) + 1) == 0) {
        fprintf(stderr, "vagt items: a field is given twice\n");
        goto out;
      }
    parts[nf].s = a;
    parts[nf].len = strlen(a);
    nf++;
  }
  if (!batch || !*batch) {
    fprintf(stderr, "vagt items: --batch NAME is required\n");
    goto out;
  }
  int given = (nf > 0) + (keyv != NULL) + (item != NULL);
  if (is_who ? given != 1 : given != 0) {
    fprintf(stderr, is_who ? "vagt items who: give the item as FIELD=VALUE..., --key VALUE "
                             "or --item TEXT (one of them)\n"
                           : "vagt items list: takes no item\n");
    goto out;
  }
  char path[4096];
  const char *env = getenv("VAGT_ITEMS_DB");
  snprintf(path, sizeof path, "%s", dbp ? dbp : env && *env ? env : "runs/items.db");
  unsigned char key[RT_ITEMS_KEY_LEN];
  char err[8192];
  sqlite3 *db = rt_items_open_db(path, false, key, err, sizeof err);
  if (!db) {
    fprintf(stderr, "vagt items: %s\n", err);
    rc = RT_EXIT_ENV;
    goto out;
  }
  if (!batch_exists(db, batch)) {
    fprintf(stderr, "vagt items: batch '%s' has no items in %s\n", batch, path);
    rc = RT_EXIT_SCRIPT;
  } else if (!is_who) {
    rc = list(db, batch);
  } else {
    char hex[RT_ITEMS_HASH_HEX];
    if (keyv) {
      /* a key field's value is stored as it is; one from before schema 1, hashed */
      long long seq;
      char state[32];
      rt_items_hash(key, keyv, strlen(keyv), hex);
      rc = who(db, batch, item_row(db, batch, keyv, &seq, state, sizeof state) ? keyv : hex);
    } else if (item) {
      rt_items_hash(key, item, strlen(item), hex);
      rc = who(db, batch, hex);
    } else {
      size_t len = 0;
      char *content = rt_items_canonical(parts, nf, &len);
      if (!content) {
        rc = RT_EXIT_ENV;
      } else {
        rt_items_hash(key, content, len, hex);
        OPENSSL_cleanse(content, len);
        free(content);
        rc = who(db, batch, hex);
      }
    }
  }
  OPENSSL_cleanse(key, sizeof key);
  sqlite3_close(db);
out:
  free(parts);
  return rc;
}
