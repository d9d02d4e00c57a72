/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NC_COMMANDS_H
#define NC_COMMANDS_H

/* Each takes the arguments after "netcap" (argv[0] is the command name) and returns the exit
 * status: 0 done, 1 failed, 2 bad usage. */
int cmd_filter(int argc, char **argv);
int cmd_mbuf(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_skb(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
