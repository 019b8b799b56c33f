package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/healthjob/healthjob/internal/store"
	"golang.org/x/term"
)

func runCreateUser(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "createuser", "NAME [--superuser] [--update] [--password-file FILE] [--config FILE]")
	superuser := f.Bool("superuser", false, "let the user delete records too, not only read them")
	update := f.Bool("update", false, "set the password (and --superuser) of an existing user; its sessions end")
	passwordFile := f.String("password-file", "", "read the password from the first line of `FILE` instead of a prompt")
	// NAME may come before the flags or after them.
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage}
	}
	if f.NArg() == 0 {
		return usageErr(errors.New("name the user: healthjob createuser NAME"))
	}
	name := f.Arg(0)
	if err := f.parse(f.Args()[1:]); err != nil {
		return err
	}
	if err := store.CheckUserName(name); err != nil {
		return usageErr(err)
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	password, err := readPassword(e, *passwordFile)
	if err != nil {
		return usageErr(err)
	}
	if err := store.CheckPassword(password); err != nil {
		return usageErr(err)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	role := "user"
	if *superuser {
		role = "superuser"
	}
	if *update {
		if err := db.SetPassword(ctx, name, password, *superuser); err != nil {
			if errors.Is(err, store.ErrNoUser) {
				return fmt.Errorf("no user %q to update; leave out --update to create it", name)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "updated %s %q; its sessions have ended\n", role, name)
		return nil
	}
	if _, err := db.CreateUser(ctx, name, password, *superuser); err != nil {
		if errors.Is(err, store.ErrUserExists) {
			return fmt.Errorf("user %q exists; pass --update to set its password", name)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "created %s %q; log in at /admin/ of `healthjob monitor --http ADDR`\n", role, name)
	return nil
}

// readPassword reads the password from file, else from a prompt on the
// terminal, typed twice, else from the first line of standard input.
func readPassword(e *env, file string) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %v", unwrapPathErr(err))
		}
		line, _, _ := strings.Cut(string(data), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	if in, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		password, err := prompt(e, in, "Password: ")
		if err != nil {
			return "", err
		}
		if err := store.CheckPassword(password); err != nil {
			return "", err
		}
		again, err := prompt(e, in, "Password (again): ")
		if err != nil {
			return "", err
		}
		if again != password {
			return "", errors.New("the two passwords differ")
		}
		return password, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New("no password: run on a terminal to be asked, give --password-file FILE, or pipe it to standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func prompt(e *env, in *os.File, text string) (string, error) {
	fmt.Fprint(e.stderr, text)
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return string(b), nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}
