/*
 * fp.h - vagt's fingerprint engine: image in, fingerprint out; compare two,
 * get a verdict with reasons; keep a baseline folder; draw diff images.
 *
 * No X11 and no Lua here: the caller captures what the step's input can
 * reach (a Leptonica PIX per window, 32 bpp, window-relative): the target
 * window and, as layers, every other window of the step's scene (pop-up
 * menus and lists, dialogs of the application, windows of other
 * applications stacked over the target). It supplies OCR words when it has
 * them and the masked (dynamic) regions. Each window is judged in its own
 * coordinates, so a dialog centred on the screen and a main window that moved
 * raise no alarm; pop-ups are also judged by their place relative to the
 * target (a menu that drops from elsewhere moves the entries a click hits).
 * Judging is local and layered: L1 the scene's windows (a new dialog or
 * pop-up, one gone, a size change), L2 a grid of 16x16 cells compared pixel
 * by pixel against the stored reference image (YIQ colour distance, small
 * per-cell count threshold, masks skipped), L3 OCR text anchors (only when
 * the caller passes words: to explain a drift). Fast path: unchanged rows
 * cost one memcmp (~1 ms at 1920x1080, 2 cores). An anchor whose cells all
 * compared unchanged is judged by its pixels, so OCR misreads of an
 * unchanged label never raise an alarm.
 *
 * Masks come only from evidence: declared by the script, typed into or
 * changed by the robot's own input (never over a recorded anchor), differing
 * between recordings (learned), covered by another judged window. Nothing
 * here guesses what looks like a field.
 *
 * Ownership: fp_* never keeps caller pointers; every fp_verdict filled by
 * fp_compare/fp_compare_fp/fp_merge/fp_store_record must be released with
 * fp_verdict_free (also after a refusal or a match). Not thread-shared:
 * separate fingerprints may be used from separate threads.
 */
#ifndef VAGT_FP_H
#define VAGT_FP_H

#include <stddef.h>
#include <stdint.h>
#include <leptonica/allheaders.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Format 2 holds every window of a step's scene (layers) and no guessed
 * field cells; format 1 entries are read (fp_entry_load) but a judge must
 * refuse them: their learned cells may hide changes (FP_FORMAT_JUDGED).
 * Format 3 reads its anchors as phrases that end at a line drawn between
 * two words (a button's frame): format 2 entries are judged with their own
 * rule. */
#define FP_FORMAT_VERSION 3
#define FP_FORMAT_JUDGED 2
#define FP_FORMAT_OLDEST 1
#define FP_CELL 16       /* cell edge in pixels */
#define FP_MAX_LAYERS 16 /* windows besides the target in one step */
/* Masks and anchors one window of a stored entry may hold: a baseline asking
 * for more is refused as corrupt, so a hostile file cannot make a comparison
 * slow (comparison is O(pixels + masks) anyway). */
#define FP_MAX_MASKS 4096
#define FP_MAX_ANCHORS 4096
#define FP_STR_(x) #x
#define FP_STR(x) FP_STR_(x)

/* Return codes (0 = success). The runtime maps FP_ERR_CORRUPT to exit 2. */
enum {
  FP_OK = 0,
  FP_ERR_ARG = 1, /* bad argument (NULL image, wrong depth, ...) */
  FP_ERR_NOMEM = 2,
  FP_ERR_IO = 3,       /* cannot read/write a file or folder */
  FP_ERR_NOTFOUND = 4, /* no baseline entry for this key */
  FP_ERR_CORRUPT = 5,  /* entry unreadable: bad JSON, missing field, bad PNG */
  FP_ERR_REFUSED = 6   /* merge refused: recording differs by more than data */
};

typedef struct fp_rect {
  int x, y, w, h;
} fp_rect;

/* The role of a window in a step's scene. */
typedef enum {
  FP_WIN_TARGET = 0, /* the window the action is aimed at */
  FP_WIN_POPUP = 1,  /* override-redirect: a menu, a combo or list pop-up, a tooltip */
  FP_WIN_DIALOG = 2, /* another top-level of the same application */
  FP_WIN_OVER = 3    /* another application's window stacked over the target */
} fp_win_role;

typedef enum { FP_WORD_LABEL = 0, FP_WORD_BUTTON = 1, FP_WORD_ENTRY = 2 } fp_word_kind;

/* One OCR word, window-relative. Anchors in a fingerprint use the same type.
 * kind only changes the wording of reasons; fp_compute marks a word framed
 * by a closed rectangle (a push button) as FP_WORD_BUTTON and every word of
 * a pop-up as FP_WORD_ENTRY. */
typedef struct fp_word {
  char *text;
  fp_rect box;
  float conf; /* 0..100 */
  fp_word_kind kind;
} fp_word;

typedef enum {
  FP_MASK_DECLARED = 0, /* ignore region declared by the script */
  FP_MASK_TYPED = 1,    /* a field the robot typed into */
  FP_MASK_LEARNED = 2,  /* differed between recordings */
  FP_MASK_ROBOT = 3,    /* changed by the robot's own input (a display, a
                             status line): its cells are skipped except where
                             they touch a recorded anchor, so a button the robot
                             clicks that an update relabels still counts */
  FP_MASK_OCCLUDED = 4  /* covered by another window (judged on its own) */
} fp_mask_source;

typedef struct fp_mask {
  fp_rect r; /* window-relative */
  fp_mask_source source;
} fp_mask;

/* What the caller saw: the target window, with the scene's other windows as
 * layers (front-most first; a layer's own layers are ignored). Pointers are
 * borrowed, never freed by fp_. */
typedef struct fp_input {
  PIX *image;            /* window image, 32 bpp (other depths converted) */
  const char *win_class; /* WM_CLASS class ("" for pop-ups without one) */
  const char *win_name;  /* title (may hold data: matched, not compared) */
  fp_win_role role;      /* FP_WIN_TARGET for the target */
  int x, y;              /* a layer's position relative to the target */
  int front;             /* a layer: 1 when stacked over the target */
  const struct fp_input *layers;
  int n_layers; /* NULL/0: no other window */
  const fp_word *words;
  int n_words;          /* OCR words, if has_words */
  int has_words;        /* 1 when OCR ran (n_words may then be 0) */
  fp_rect words_region; /* area OCR covered; w=0 means the whole window */
  const fp_mask *masks;
  int n_masks;
  /* words the robot typed in this run: data wherever an application shows them again (a
   * name copied into a dialog): never part of an anchor, never quoted (may be NULL) */
  const char *const *data_words;
  int n_data_words;
} fp_input;

/* Which words of ws are data the robot typed (typed: its nt words; is_data: n flags,
 * nonzero for data): such a word, edge punctuation aside and a slip tolerated in a long
 * one, or one standing between two of them on its line ("Søren r Ærø": OCR's noise
 * inside the value). Each word is read against the typed ones once. */
void fp_data_words(const fp_word *ws, int n, const char *const *typed, int nt, uint8_t *is_data);

/* A fingerprint (owns everything in it): the target window's, with the
 * other windows of the scene as layers of the same type. */
typedef struct fp_fingerprint {
  int version; /* format the entry was read as (FP_FORMAT_VERSION when computed) */
  char *key;   /* step key (may be NULL until stored; NULL in layers) */
  char *win_class;
  char *win_name;
  fp_win_role role;
  int x, y, front; /* layers: place relative to the target, stacking */
  int width, height;
  struct fp_fingerprint **layers;
  int n_layers; /* front-most first */
  fp_word *anchors;
  int n_anchors; /* static words */
  fp_mask *masks;
  int n_masks;      /* declared/typed/robot/occluded masks kept */
  int cols, rows;   /* cell grid */
  uint8_t *learned; /* cols*rows, 1 = learned volatile */
  uint64_t *cells;  /* cols*rows cell descriptors */
  int recordings;   /* how many recordings merged */
  PIX *image;       /* reference image, 32 bpp */
} fp_fingerprint;

typedef struct fp_options {
  double threshold;          /* YIQ distance, pixelmatch scale 0..1 (0.1) */
  int min_pixels;            /* changed pixels that make a cell changed (2) */
  int pos_tolerance;         /* px an anchor may shift and still match (4) */
  float min_conf;            /* OCR confidence for a word to become an anchor (60) */
  double theme_fraction;     /* changed-cell share that suggests a theme (0.30) */
  double max_learn_fraction; /* merge refuses above this share (0.25) */
  int max_region_reasons;    /* region reasons listed before "and N more" (8) */
} fp_options;

/* The result of a comparison. Reasons are plain sentences with window
 * coordinates (a layer's reasons name the layer and use its own
 * coordinates); changed and ignored hold rectangles relative to the
 * target's origin (layers at their current place), for the diff image. */
typedef struct fp_verdict {
  int match; /* 1 = match, 0 = drift */
  char **reasons;
  int n_reasons;
  fp_rect *changed;
  int n_changed;
  int cap_reasons, cap_changed; /* allocated: grown by doubling */
  fp_rect *ignored;
  int n_ignored; /* masks and learned cells applied */
  int cells_total, cells_checked, cells_masked, cells_changed;
  int anchors_checked, anchors_moved, anchors_renamed, anchors_missing;
  int windows_new, windows_missing, windows_moved; /* scene layers */
  int windows_changed;                             /* matched layers whose content differs */
  int size_changed, class_changed;
  double elapsed_ms; /* time spent in fp_compare */
} fp_verdict;

void fp_options_default(fp_options *o);

/* Fingerprints */
int fp_compute(const fp_input *in, const char *key, const fp_options *opt, fp_fingerprint **out);
void fp_fingerprint_free(fp_fingerprint *fp);
/* Mark learned volatile cells overlapping r. */
void fp_learn_rect(fp_fingerprint *fp, fp_rect r);
/* A short name of a layer for reasons and logs: "pop-up (Menu) at (4,24)",
 * "window 'Nyheder i version 2.0'". */
void fp_layer_label(fp_win_role role, const char *cls, const char *name, int x, int y, char *buf,
                    size_t n);
/* Descriptor of one cell: 4x4 sub-blocks, 4-bit mean luma each. */
uint64_t fp_cell_descriptor(PIX *pix32, int col, int row);
/* Sum of nibble differences between two descriptors (0 = alike). */
int fp_descriptor_distance(uint64_t a, uint64_t b);

/* Compare: returns FP_OK (the verdict says match or drift) or an error code.
 * Masks of base and of cur both apply. With cur->has_words, anchors are
 * matched to the words: reasons "moved", "now reads", "not found"/"missing",
 * "swapped", "new text", "font changed"; without, changed cells are
 * reported as regions. Theme/font reasons and L1 reasons come first. */
int fp_compare(const fp_fingerprint *base, const fp_input *cur, const fp_options *opt,
               fp_verdict *out);
int fp_compare_fp(const fp_fingerprint *base, const fp_fingerprint *cur, const fp_options *opt,
                  fp_verdict *out);
void fp_verdict_free(fp_verdict *v);

/* Merge a further recording into base. On FP_OK *out is a new fingerprint
 * (cells that differ, and the whole box of a word that changed, became
 * learned volatile; anchors not in every recording dropped; recordings
 * summed; base's reference image kept); layers are merged pairwise. Refused
 * (FP_ERR_REFUSED, reasons in *refusal, its changed rectangles the regions
 * that differ) when it differs by more than data: window class or size, new
 * or missing windows or pop-ups, a pop-up placed elsewhere, a label that now
 * reads differently or moved, label boxes resized (font), or more than
 * max_learn_fraction of the checked cells changed. Differences under masks
 * (typed, robot-changed, declared) are data and merge. */
int fp_merge(const fp_fingerprint *base, const fp_fingerprint *rec, const fp_options *opt,
             fp_fingerprint **out, fp_verdict *refusal);

/* Cells (FP_CELL) where two same-sized images differ (RGB bits), grouped into
 * 8-connected boxes no taller than max_h pixels (taller changes: a page or a
 * dialog, not data; 0 = no limit); a taller group is split at bands of unchanged
 * pixel rows (lines drawn at once, a few pixels apart at least) and its bands no
 * taller than max_h count; cells under any box in keep (a label that reads the
 * same before and after) are left out. Returns the number of
 * rectangles in *out (malloc'd; free()), -1 when out of memory or the sizes
 * differ. What the robot's input changed, for FP_MASK_ROBOT masks. */
int fp_changed_regions(PIX *before, PIX *after, const fp_rect *keep, int nkeep, int max_h,
                       fp_rect **out);
/* Edit distance of a and b, their first 63 bytes each; fold: ASCII case folded. */
int fp_text_distance(const char *a, const char *b, int fold);
/* The pixels of a recorded anchor (box) that comparison checks even under an
 * FP_MASK_ROBOT mask: the box grown by a pixel each side (a glyph's anti-aliased
 * edge belongs to it), clipped to a w x h image. A stored reference image whose
 * data is blanked keeps these pixels, or an unchanged screen would differ there. */
fp_rect fp_anchor_checked(fp_rect box, int w, int h);
/* The flat grey (Leptonica RGBA) that blanks data in a stored reference image. In the
 * ring fp_anchor_checked adds around an anchor's box under an FP_MASK_ROBOT mask, a
 * reference pixel of exactly this grey is not compared: images stored before the ring was
 * kept show it there (the box itself always was). */
#define FP_BLANK_PIXEL 0xb0b0b000u
/* 1 when cell (col,row) shows the same RGB pixels in a and b (same size),
 * leaving out pixels under masks and cells learned volatile in e (may be NULL). */
int fp_cell_equal(PIX *a, PIX *b, int col, int row, const fp_fingerprint *e);

/* The scene as the screen showed it: the target's image with its layers
 * painted at their places (behind-the-target layers first, then the target,
 * then those in front, back to front). *ox, *oy: where the target's origin
 * lies in the returned image. Caller pixDestroy()s. */
PIX *fp_scene_image(const fp_fingerprint *fp, int *ox, int *oy);
PIX *fp_input_scene_image(const fp_input *in, int *ox, int *oy);
/* Diff image of two scenes: recorded | current | difference, verdict
 * rectangles placed with the current scene's origin. */
PIX *fp_diff_scene(const fp_fingerprint *base, const fp_input *cur, const fp_verdict *v);

/* Diff image: recorded | current | difference, side by side; changed
 * regions outlined in red on the current image (and the diff panel), where
 * the diff panel shows differing pixels red on a faded recorded image and
 * ignored regions (v->ignored) tinted blue. v may be NULL. Caller
 * pixDestroy()s it. */
PIX *fp_diff_image(PIX *recorded, PIX *current, const fp_verdict *v);

/* Images from outside (baseline and evidence PNGs, files given by a user):
 * the PNG header is read first and an image larger than FP_MAX_IMAGE_SIDE on
 * a side or FP_MAX_IMAGE_PIXELS in all is refused (FP_ERR_CORRUPT, the
 * message names the file and the size it claims) before it is decoded. A
 * FIFO or other non-regular file is refused without blocking. */
#define FP_MAX_IMAGE_SIDE 16384
#define FP_MAX_IMAGE_PIXELS (64 * 1024 * 1024)
typedef struct fp_error fp_error;
int fp_image_read(const char *path, PIX **out, fp_error *err);
/* name: for messages (a file name). */
int fp_image_read_mem(const void *data, size_t size, const char *name, PIX **out, fp_error *err);

/* Baseline store: DIR/<sanitized-key>.json + its PNGs, written all or nothing,
 * files 0600, folder 0700. err (may be NULL) receives a message that names
 * the file and, for a corrupt entry, the field. */
struct fp_error {
  int code;
  char message[1024];
};

/* Deterministic, safe file stem for a key (malloc'd). */
char *fp_sanitize_key(const char *key);
int fp_store_load(const char *dir, const char *key, fp_fingerprint **out, fp_error *err);
/* Write (create or replace) the entry for fp->key. */
int fp_store_save(const char *dir, const fp_fingerprint *fp, fp_error *err);
/* Record: store when new, else merge into the stored entry; refusal reasons
 * go to *refusal (may be NULL) and to err->message; the entry is then left
 * untouched. Replacing is fp_store_save. FP_ERR_CORRUPT from any load means
 * a hand-edited or damaged entry: the message names the file and field. */
int fp_store_record(const char *dir, const fp_fingerprint *rec, const fp_options *opt,
                    fp_verdict *refusal, fp_error *err);
/* A recording: entries saved or recorded into it become visible together, at
 * fp_recording_commit, or not at all (a crash or fp_recording_abort before the
 * commit leaves the baseline as it was; a crash during the commit leaves the
 * whole new recording, finished by the next commit in the folder). Readers
 * (fp_store_load) need nothing special. fp_store_save and fp_store_record are
 * recordings of one entry. commit and abort free the recording. */
typedef struct fp_recording fp_recording;
int fp_recording_begin(const char *dir, fp_recording **out, fp_error *err);
int fp_recording_save(fp_recording *r, const fp_fingerprint *fp, fp_error *err);
/* The entry as this recording holds it (saved into it), else the stored one. */
int fp_recording_load(fp_recording *r, const char *key, fp_fingerprint **out, fp_error *err);
/* As fp_store_record, merging with what this recording already holds for the key. */
int fp_recording_record(fp_recording *r, const fp_fingerprint *rec, const fp_options *opt,
                        fp_verdict *refusal, fp_error *err);
int fp_recording_commit(fp_recording *r, fp_error *err);
void fp_recording_abort(fp_recording *r);
/* Load one entry file directly (path to the .json). */
int fp_entry_load(const char *json_path, fp_fingerprint **out, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
