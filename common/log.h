/* log: diagnostics on stderr, one verbosity knob per process. */
#ifndef VF_LOG_H
#define VF_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Program name prefix and threshold; messages above it are dropped. */
void log_init(const char *prog, enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)  log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_dbg(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
