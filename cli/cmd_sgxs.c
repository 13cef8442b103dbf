/* TEMPORARY placeholder: replaced by the real verb in this change. */
#include "cli.h"
int tm_cmd_sgxs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return TM_EXIT_ERROR;
}
