/* A private Xvfb for one run: started with -displayfd (the server picks a free display,
 * so parallel runs never collide) and -noreset, waited for until it answers, stopped on
 * every exit path. */
#ifndef VAGT_XVFB_H
#define VAGT_XVFB_H

#include <stddef.h>
#include <sys/types.h>

/* screen: "WIDTHxHEIGHTxDEPTH". On success fills name (":N") and returns the pid. */
pid_t rt_xvfb_start(const char *screen, char *name, size_t namelen, char *err, size_t errlen);
void rt_xvfb_stop(pid_t pid);

#endif
