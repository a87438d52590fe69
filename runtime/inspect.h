/* `vagt inspect`: windows, and the words OCR reads with their boxes. */
#ifndef VAGT_INSPECT_H
#define VAGT_INSPECT_H

int rt_cmd_inspect(int argc, char **argv);

#endif
