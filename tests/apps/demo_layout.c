/* vagt-demo-app: THE layout table. A vendor update is a small edit here. */
#include "demo_layout.h"

#include <string.h>

/* Semantic fields, in canonical output order (see enum demo_field). */
const struct demo_field_def demo_fields[DEMO_NFIELDS] = {
    /*               id             label           width  prefill (a previous case) */
    [F_CPR] = {"cpr", "CPR-nummer", 140, "010203-1234"},
    [F_NAVN] = {"navn", "Navn", 400, "Karen Ærbødig Østergård"},
    [F_ADRESSE] = {"adresse", "Adresse", 400, "Åboulevarden 12, 2. th."},
    [F_POSTNR] = {"postnr", "Postnr", 70, "8000"},
    [F_BY] = {"by", "By", 300, "Aarhus C"},
    [F_BEMAERKNING] = {"bemaerkning", "Bemærkning", 440, "Tidligere sag 2023-118"},
    [F_TELEFON] = {"telefon", "Telefon", 140, "86 12 34 56"},
};

/* Buttons: x is window-relative; y is DEMO_BUTTON_GAP below the last field row. */
const struct demo_button_def demo_buttons[DEMO_NBUTTONS] = {
    [B_GEM] = {"gem", "Gem", DEMO_FIELD_X, 90},
    [B_ANNULLER] = {"annuller", "Annuller", DEMO_FIELD_X + 104, 90},
};

/* Row orders (top to bottom). */
static const int order_normal[] = {F_CPR, F_NAVN, F_ADRESSE, F_POSTNR, F_BY, F_BEMAERKNING, F_END};
static const int order_swapped[] = {F_CPR, F_ADRESSE, F_NAVN, F_POSTNR, F_BY, F_BEMAERKNING, F_END};
static const int order_inserted[] = {F_CPR,    F_NAVN, F_TELEFON,     F_ADRESSE,
                                     F_POSTNR, F_BY,   F_BEMAERKNING, F_END};

static const struct demo_theme theme_blue = {
    .window_bg = "#2f4f7f",
    .label_fg = "#ffffff",
    .field_bg = "#fff8dc",
    .field_fg = "#102040",
    .button_bg = "#c8d4e8",
    .button_fg = "#102040",
    .status_bg = "#1c3356",
    .status_fg = "#ffffff",
    .border = "#0a1a30",
};

#define NO_RELABEL                                                                                 \
  {                                                                                                \
    F_END, 0                                                                                       \
  }

const struct demo_variant demo_variants[] = {
    {"normal", "the recorded, known-good layout", order_normal, NO_RELABEL, 0, 0, 0, 0, 0},
    {"swapped", "Navn and Adresse rows swapped (labels and fields)", order_swapped, NO_RELABEL, 0,
     0, 0, 0, 0},
    {"renamed",
     "label Navn reads \"Fulde navn\"",
     order_normal,
     {F_NAVN, "Fulde navn"},
     0,
     0,
     0,
     0,
     0},
    {"banner", "an info banner row at the top, all fields 40 px lower", order_normal, NO_RELABEL, 1,
     0, 0, 0, 0},
    {"inserted", "a field Telefon between Navn and Adresse (extra last output column)",
     order_inserted, NO_RELABEL, 0, 0, 0, 0, 0},
    {"nobutton", "button Gem removed; Ctrl+S does nothing", order_normal, NO_RELABEL, 0, 1, 0, 0,
     0},
    {"whatsnew", "a modal \"Nyheder i version 2.0\" dialog in front at start", order_normal,
     NO_RELABEL, 0, 0, 1, 0, 0},
    {"font", "labels in a bigger bold font (9x18B)", order_normal, NO_RELABEL, 0, 0, 0,
     "-misc-fixed-bold-r-normal--18-*-*-*-c-90-iso10646-1", 0},
    {"theme", "a blue colour theme", order_normal, NO_RELABEL, 0, 0, 0, 0, &theme_blue},
};
const int demo_nvariants = (int)(sizeof demo_variants / sizeof demo_variants[0]);

const char *const demo_banner_text = "Info: Sagsregistrering 2.1 er installeret. Se Nyheder.";
const char *const demo_whatsnew_title = "Nyheder i version 2.0";
const char *const demo_whatsnew_text = "Sagsregistrering er blevet opdateret.\n"
                                       "Nyt: hurtigere søgning og færre fejl.\n"
                                       "Tryk OK for at fortsætte.";

const struct demo_variant *demo_find_variant(const char *name)
{
  for (int i = 0; i < demo_nvariants; i++)
    if (strcmp(demo_variants[i].name, name) == 0)
      return &demo_variants[i];
  return 0;
}
