/* SPDX-License-Identifier: BSD-2-Clause */
#include "verifier_log.h"

#include <stdbool.h>
#include <string.h>

/* The verifier's verdict: its last line other than the statistics it ends with and the
 * register states it prints after "infinite loop detected at insn N" (found by tests/fuzz). */
const char *nc_verifier_reason(char *log)
{
	static const char *const stats[] = {
	    "processed ",  "verification time", "stack depth", "mark_read",
	    "Validating ", "cur state:",	"old state:"};
	char *end = log + strlen(log);

	for (;;) {
		char *line;
		bool skip = false;

		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			*--end = '\0';
		for (line = end; line > log && line[-1] != '\n'; line--)
			;
		for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
			skip |= !strncmp(line, stats[i], strlen(stats[i]));
		if (!skip || line == log)
			return line;
		end = line;
	}
}
