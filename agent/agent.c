#include "agent.h"

#include <stdio.h>

int ag_main(int argc, char **argv)
{
  (void)argc, (void)argv;
  fprintf(stderr, "vagt agent: being built (issue 5)\n");
  return 2;
}
