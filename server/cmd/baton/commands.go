package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/peterbourgon/ff/v4"
	"github.com/peterbourgon/ff/v4/ffhelp"
)

// commands is baton's command tree. A new command is one more entry here (or in a group's
// list): a function next to the code it runs that returns its *ff.Command, built with command
// (flags, help, exec). For "baton secrets rotate", say: write secretsRotateCommand() in its own
// file and add group("secrets", "baton secrets rotate [flags]", "manage secrets at rest",
// secretsRotateCommand()) below. TestEveryCommandHelpNamesItsFlags then checks its help.
func commands(stdout, stderr io.Writer) *ff.Command {
	root := group("baton", "baton COMMAND", "the bot↔human handover control plane",
		serveCommand(stderr),
		migrateCommand(stdout),
		keysCommand(stdout),
		secretsCommand(stdout),
		eventsCommand(stdout),
		benchCommand(stdout),
		versionCommand(stdout),
	)
	root.LongHelp = `Every serve, migrate, keys and secrets rotate flag can also be set with a BATON_* environment variable
(--data-dir with BATON_DATA_DIR); a flag wins over its variable. Run "baton COMMAND -h" for
the flags of a command.`
	return root
}

// run parses args against the command tree and runs the command they select. -h (or "help")
// prints the selected command's help; a command line that does not parse prints it too,
// after the error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := commands(stdout, stderr)
	if len(args) > 0 && args[0] == "help" { // "baton help [COMMAND...]": the help of COMMAND, on stdout
		if err := root.Parse(append(args[1:], "-h")); !errors.Is(err, ff.ErrHelp) {
			return usageError("no command %q", strings.Join(args[1:], " "))
		}
		fmt.Fprint(stdout, help(root.GetSelected()))
		return nil
	}
	if err := root.Parse(args); err != nil { // -h gives ff.ErrHelp: the help, and no other word
		fmt.Fprint(stderr, help(root.GetSelected()))
		return err
	}
	err := root.Run(ctx)
	if errors.As(err, new(errUsage)) {
		fmt.Fprint(stderr, help(root.GetSelected()))
	}
	return err
}

// errUsage is an error in how a command was called, after which run prints its help.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageError(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// command makes a command whose flags are fs's, parsed as the standard library parses them
// (-flag and --flag alike). With env, every flag not given on the command line is read from
// its BATON_* variable (--data-dir from BATON_DATA_DIR), and a variable that does not parse
// is an error, like the flag.
func command(fs *flag.FlagSet, env bool, usage, shortHelp, longHelp string, exec func(context.Context, []string) error) *ff.Command {
	core := ff.NewFlagSetFrom(fs.Name(), fs)
	var flags ff.Flags = core
	if env {
		flags = envFlags{core}
	}
	return &ff.Command{
		Name: fs.Name(), Usage: usage, ShortHelp: shortHelp, LongHelp: longHelp, Flags: flags, Exec: exec,
	}
}

// noArgs wraps an exec that takes flags only, refusing leftover arguments.
func noArgs(exec func(context.Context) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usageError("unexpected arguments %q", args)
		}
		return exec(ctx)
	}
}

// group makes a command that only selects one of its sub-commands: run alone or with an
// unknown name, it fails naming them.
func group(name, usage, shortHelp string, subcommands ...*ff.Command) *ff.Command {
	names := make([]string, len(subcommands))
	for i, c := range subcommands {
		names[i] = c.Name
	}
	return &ff.Command{
		Name: name, Usage: usage, ShortHelp: shortHelp, Subcommands: subcommands,
		Flags: ff.NewFlagSetFrom(name, flag.NewFlagSet(name, flag.ContinueOnError)),
		Exec: func(_ context.Context, args []string) error {
			if len(args) == 0 {
				return usageError("%s needs a command: %s", name, strings.Join(names, ", "))
			}
			return usageError("unknown %s command %q (one of %s)", name, args[0], strings.Join(names, ", "))
		},
	}
}

// envFlags reads the flags a command line did not give from their BATON_* variables.
type envFlags struct{ *ff.FlagSet }

func (f envFlags) Parse(args []string) error {
	err := ff.Parse(f.FlagSet, args, ff.WithEnvVarPrefix("BATON"))
	if err != nil && !f.FlagSet.IsParsed() {
		return errors.Unwrap(err) // a command-line error, which Command already calls one
	}
	return err
}

// help is a command's help: its usage, description, commands and flags.
func help(cmd *ff.Command) string {
	h := ffhelp.Help{ffhelp.NewUntitledSection("Usage: " + cmd.Usage)}
	if cmd.ShortHelp != "" || cmd.LongHelp != "" {
		h = append(h, ffhelp.NewUntitledSection(strings.TrimSpace(cmd.ShortHelp+"\n\n"+cmd.LongHelp)))
	}
	if len(cmd.Subcommands) > 0 {
		s := ffhelp.Section{Title: "Commands:", LinePrefix: ffhelp.DefaultLinePrefix, LineColumns: true}
		for _, sc := range cmd.Subcommands {
			s.Lines = append(s.Lines, fmt.Sprintf("%s %s\t%s\n", path(cmd), sc.Name, sc.ShortHelp))
		}
		h = append(h, s)
	}
	if cmd.Flags != nil && hasFlags(cmd.Flags) {
		s := ffhelp.NewFlagsSection(cmd.Flags)
		s.Title = "Flags:"
		h = append(h, s)
	}
	return h.String()
}

func hasFlags(fs ff.Flags) bool {
	found := false
	fs.WalkFlags(func(ff.Flag) error { found = true; return nil })
	return found
}

// argFirst lets a command take one argument before its flags ("keys delete KEY_ID --data-dir
// DIR"): flag parsing stops at the first argument, so it is set aside first.
type argFirst struct {
	envFlags
	arg []string
}

func (f *argFirst) Parse(args []string) error {
	f.arg = nil
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		f.arg, args = args[:1], args[1:]
	}
	return f.envFlags.Parse(args)
}

func (f *argFirst) GetArgs() []string {
	return append(f.arg[:len(f.arg):len(f.arg)], f.envFlags.GetArgs()...)
}

// path is how a parsed command is called: "baton keys".
func path(cmd *ff.Command) string {
	if p := cmd.GetParent(); p != nil {
		return path(p) + " " + cmd.Name
	}
	return cmd.Name
}
