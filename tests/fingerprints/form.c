/* form.c - see form.h */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 640
#define H 400

/* Draw words left to right from (x, baseline); record each word's box. */
static void text(form *f, L_BMF *bmf, const char *s, int x, int base, l_uint32 colour, int record,
                 fp_word_kind kind)
{
  char buf[128];
  snprintf(buf, sizeof buf, "%s", s);
  char *save = NULL;
  for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    int width = 0, ovf = 0;
    pixSetTextline(f->pix, bmf, t, colour, x, base, &width, &ovf);
    if (record && f->n_words < FORM_MAX_WORDS) {
      fp_word *w = &f->words[f->n_words++];
      w->text = strdup(t);
      w->box.x = x;
      w->box.y = base - bmf->lineheight * 3 / 4;
      w->box.w = width;
      w->box.h = bmf->lineheight;
      w->conf = 95.0f;
      w->kind = kind;
    }
    x += width + bmf->spacewidth;
  }
}

static void rect(PIX *p, int x, int y, int w, int h, l_uint32 rgb)
{
  BOX *b = boxCreate(x, y, w, h);
  pixSetInRectArbitrary(p, b, rgb);
  boxDestroy(&b);
}

static void frame(PIX *p, int x, int y, int w, int h, l_uint32 border, l_uint32 fill)
{
  rect(p, x, y, w, h, border);
  rect(p, x + 1, y + 1, w - 2, h - 2, fill);
}

void form_make(const form_spec *spec, form *f)
{
  memset(f, 0, sizeof *f);
  int height = spec->variant == V_BIGGER ? H + 40 : H;
  f->pix = pixCreate(W, height, 32);
  pixSetSpp(f->pix, 3);
  int theme = spec->variant == V_THEME;
  l_uint32 bg = theme ? 0x2b3a4a00 : 0xd9d9d900;
  l_uint32 ink = theme ? 0xf0f0f000 : 0x10101000;
  l_uint32 border = theme ? 0x9aabbb00 : 0x7a7a7a00;
  l_uint32 fieldbg = theme ? 0x1c263100 : 0xffffff00;
  l_uint32 btn = theme ? 0x40526600 : 0xe8e8e800;
  pixSetAllArbitrary(f->pix, bg);
  L_BMF *lab = bmfCreate(NULL, spec->variant == V_FONT ? 6 : 4);
  L_BMF *dat = bmfCreate(NULL, 4);

  text(f, lab, "Borgerregister", 12, 20, ink, 1, FP_WORD_LABEL);
  /* clock, top right */
  f->clock = (fp_rect){540, 6, 90, 20};
  text(f, dat, spec->clock ? spec->clock : "12:00:00", 560, 20, ink, 1, FP_WORD_LABEL);
  f->masks[f->n_masks++] = (fp_mask){f->clock, FP_MASK_DECLARED};

  const char *labels[5] = {"CPR-nummer", "Navn", "Adresse", "Postnummer", NULL};
  int order[5] = {0, 1, 2, 3, -1};
  int nrows = 4, top = 40;
  const char *extra = NULL;
  switch (spec->variant) {
    case V_RENAMED: labels[1] = "Fulde navn"; break;
    case V_ONECHAR: labels[1] = "Navm"; break;
    case V_SWAPPED:
      order[0] = 1;
      order[1] = 0;
      break;
    case V_BANNER:
      rect(f->pix, 0, 30, W, 34, 0xfff3b000);
      text(f, dat, "Ny version tilgaengelig", 12, 50, 0x30300000, 1, FP_WORD_LABEL);
      top += 40;
      break;
    case V_INSERTED:
      extra = "Telefon";
      nrows = 5;
      order[2] = 4;
      order[3] = 2;
      order[4] = 3;
      labels[4] = extra;
      break;
    case V_REMOVED:
      order[2] = 3;
      order[3] = -1;
      nrows = 3;
      break;
    default: break;
  }
  for (int row = 0; row < nrows; row++) {
    int k = order[row];
    if (k < 0)
      continue;
    int y = top + 40 * row;
    text(f, lab, labels[k], 12, y + 16, ink, 1, FP_WORD_LABEL);
    f->label_x = 12;
    int above = 0;
    bmfGetBaseline(lab, 'A', &above);
    f->label_y[row] = y + 16 - above;
    frame(f->pix, 180, y, 300, 24, border, fieldbg);
    fp_rect inner = {181, y + 1, 298, 22};
    f->masks[f->n_masks++] = (fp_mask){inner, FP_MASK_TYPED};
    const char *d = k < 4 ? spec->data[k] : NULL;
    int dw = 0;
    if (d) {
      int before = f->n_words;
      text(f, dat, d, 186, y + 16, theme ? 0xffffff00 : 0, 1, FP_WORD_LABEL);
      for (int i = before; i < f->n_words; i++)
        dw = f->words[i].box.x + f->words[i].box.w - 186;
    }
    if (spec->caret && row == 0)
      rect(f->pix, 188 + dw, y + 4, 1, 16, 0);
  }
  /* buttons */
  int by = spec->variant == V_BIGGER ? 360 : 320;
  if (spec->variant != V_NOBUTTON) {
    frame(f->pix, 140, by, 80, 28, border, btn);
    text(f, lab, "Gem", 166, by + 18, ink, 1, FP_WORD_LABEL);
  }
  frame(f->pix, 240, by, 90, 28, border, btn);
  text(f, lab, "Annuller", 256, by + 18, ink, 1, FP_WORD_LABEL);

  f->title = strdup("Borgerregister");
  if (spec->variant == V_WHATSNEW) {
    /* a dialog of another class in front, judged in its own coordinates */
    f->dialog = pixCreate(400, 200, 32);
    pixSetAllArbitrary(f->dialog, 0xe0e0e000);
    f->layers[0] = (fp_input){.image = f->dialog,
                              .win_class = "Toplevel",
                              .win_name = "Nyheder i version 2.0",
                              .role = FP_WIN_DIALOG,
                              .x = 120,
                              .y = 100,
                              .front = 1};
    f->n_layers = 1;
  }
  bmfDestroy(&lab);
  bmfDestroy(&dat);
}

void form_free(form *f)
{
  for (int i = 0; i < f->n_words; i++)
    free(f->words[i].text);
  free(f->title);
  pixDestroy(&f->dialog);
  pixDestroy(&f->pix);
  memset(f, 0, sizeof *f);
}

fp_input form_input(const form *f, int with_words, int masks)
{
  fp_input in;
  memset(&in, 0, sizeof in);
  in.image = f->pix;
  in.win_class = "Borgerregister";
  in.win_name = f->title;
  in.layers = f->layers;
  in.n_layers = f->n_layers;
  if (with_words) {
    in.words = f->words;
    in.n_words = f->n_words;
    in.has_words = 1;
  }
  if (masks == 2) {
    in.masks = f->masks;
    in.n_masks = f->n_masks;
  } else if (masks == 1) {
    in.masks = f->masks + 1; /* skip the clock */
    in.n_masks = f->n_masks - 1;
  }
  return in;
}

fp_rect form_word(const form *f, const char *t)
{
  for (int i = 0; i < f->n_words; i++)
    if (!strcmp(f->words[i].text, t))
      return f->words[i].box;
  return (fp_rect){0, 0, 0, 0};
}
