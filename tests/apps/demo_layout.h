/* vagt-demo-app: the form's layout, described as data.
 *
 * Everything a "vendor update" changes lives in demo_layout.c: the field table (semantic id,
 * label, width, prefill value), the button table, the pixel grid, and the variant table, where
 * each variant is a small edit of the normal layout. The widget code in vagt-demo-app.c only
 * interprets these tables. */
#ifndef VAGT_DEMO_LAYOUT_H
#define VAGT_DEMO_LAYOUT_H

/* Semantic fields. The enum order is the canonical output order (columns of a saved line);
 * F_TELEFON is appended as an extra last column only when a variant's layout contains it. */
enum demo_field {
  F_CPR,
  F_NAVN,
  F_ADRESSE,
  F_POSTNR,
  F_BY,
  F_BEMAERKNING,
  F_TELEFON,
  DEMO_NFIELDS,
  F_END = -1 /* terminates a row order list */
};

struct demo_field_def {
  const char *id;      /* semantic id, used in --print-layout */
  const char *label;   /* label text (UTF-8) */
  int width;           /* text field width in pixels, border excluded */
  const char *prefill; /* value shown with --prefill */
};

enum demo_button { B_GEM, B_ANNULLER, DEMO_NBUTTONS };

struct demo_button_def {
  const char *id;
  const char *label;
  int x; /* window-relative x; y follows the last field row */
  int width;
};

struct demo_theme {
  const char *window_bg, *label_fg, *field_bg, *field_fg, *button_bg, *button_fg, *status_bg,
      *status_fg, *border;
};

struct demo_relabel {
  int field; /* enum demo_field, or F_END for none */
  const char *label;
};

struct demo_variant {
  const char *name;
  const char *help;
  const int *order;               /* field rows, top to bottom, F_END terminated */
  struct demo_relabel relabel;    /* one label reads differently */
  int banner;                     /* an info banner row at the top, fields move down */
  int no_gem;                     /* button Gem removed (Ctrl+S does nothing) */
  int whatsnew;                   /* modal "Nyheder i version 2.0" dialog at start */
  const char *label_fontset;      /* NULL: the normal font */
  const struct demo_theme *theme; /* NULL: plain Xaw colours */
};

/* The pixel grid (window-relative). */
enum {
  DEMO_WIN_W = 640,
  DEMO_WIN_H = 400,
  DEMO_MARGIN_TOP = 24,   /* y of the first row */
  DEMO_BANNER_SHIFT = 40, /* rows move down this much in the banner variant */
  DEMO_ROW_PITCH = 34,
  DEMO_ROW_H = 24, /* label and field height, border excluded */
  DEMO_LABEL_X = 24,
  DEMO_LABEL_W = 140,
  DEMO_FIELD_X = 170,
  DEMO_BUTTON_GAP = 26, /* between the last row and the buttons */
  DEMO_BUTTON_H = 28,
  DEMO_STATUS_H = 24
};

#define DEMO_CLASS "VagtDemo"
#define DEMO_TITLE "Sagsregistrering"
#define DEMO_FONTSET                                                                               \
  "-misc-fixed-medium-r-normal--13-*-*-*-c-70-iso10646-1,"                                         \
  "-misc-fixed-medium-r-*--13-*-*-*-*-*-iso10646-1"
#define DEMO_BOLD_FONTSET                                                                          \
  "-misc-fixed-bold-r-normal--13-*-*-*-c-70-iso10646-1,"                                           \
  "-misc-fixed-bold-r-*--13-*-*-*-*-*-iso10646-1"

extern const struct demo_field_def demo_fields[DEMO_NFIELDS];
extern const struct demo_button_def demo_buttons[DEMO_NBUTTONS];
extern const struct demo_variant demo_variants[];
extern const int demo_nvariants;
extern const char *const demo_banner_text;
extern const char *const demo_whatsnew_title;
extern const char *const demo_whatsnew_text;

const struct demo_variant *demo_find_variant(const char *name);

#endif
