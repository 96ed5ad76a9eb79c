// libedit (BSD licence) through its readline-compatible interface. readline.h needs FILE.
#include <stdio.h>
#include <editline/readline.h>

// Swift 6 cannot touch C globals (they are shared mutable state), so they are set here.

/// Names the program for libedit, takes Ctrl-C handling away from it (the REPL has its
/// own), lets it follow window resizes, and installs the completion hook.
static inline void heph_editline_configure(rl_completion_func_t *complete) {
    rl_readline_name = "heph";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 1;
    rl_attempted_completion_function = complete;
    // Break words only at what cannot be part of a Lua name path, so `heph.st` completes whole.
    rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{}()[],+-*/%^~#";
}

/// Inside the completion hook: no file-name completion after it, and `append` (a space, or
/// 0 for nothing) after a unique match.
static inline void heph_editline_completion_done(int append) {
    rl_attempted_completion_over = 1;
    rl_completion_append_character = append;
}
