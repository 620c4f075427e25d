package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/peterbourgon/ff/v4"
	"io"
	"os"
	"path/filepath"

	"github.com/batonhq/baton/server/secret"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/sqlite"
)

// secretKeyEnv holds the keys themselves. It is read from the environment only, never from a
// flag, which every user of the machine could read in the process list.
const secretKeyEnv = "BATON_SECRET_KEY"

// keys returns the keys given by BATON_SECRET_KEY or --secret-key-file, or nil when neither is
// set. A message never shows a key, only its id.
func (f *storeFlags) keys() (*secret.Keyring, error) {
	env := os.Getenv(secretKeyEnv)
	switch {
	case env != "" && f.secretKeyFile != "":
		return nil, fmt.Errorf("both %s and --secret-key-file (BATON_SECRET_KEY_FILE) are set: give the keys once", secretKeyEnv)
	case env != "":
		keys, err := secret.ParseKeyring(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", secretKeyEnv, err)
		}
		return keys, nil
	case f.secretKeyFile != "":
		keys, err := secret.ReadKeyFile(f.secretKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--secret-key-file: %w", err)
		}
		return keys, nil
	}
	return nil, nil
}

// explainKeyError adds to a refusal to open the database for want of its key what to do.
func (f *storeFlags) explainKeyError(err error) error {
	var where string
	switch {
	case os.Getenv(secretKeyEnv) != "":
		where = "the keys in " + secretKeyEnv
	case f.secretKeyFile != "":
		where = "the keys in --secret-key-file " + f.secretKeyFile
	case f.databaseURL == "":
		where = "the key file " + sqlite.KeyFile(filepath.Join(f.dataDir, "baton.db"))
	default:
		where = "no key"
	}
	switch {
	case errors.Is(err, store.ErrSecretKeyMissing), errors.Is(err, store.ErrSecretKeyWrong):
		return fmt.Errorf("refusing to start: %w.\nBaton was given %s. Give the key the secrets were sealed with, in the %s "+
			"environment variable or in a file named by --secret-key-file (BATON_SECRET_KEY_FILE); "+
			"after a rotation, the new key first and the old one after it until every server has restarted", err, where, secretKeyEnv)
	}
	return err
}

// secretsHelp says how a rotation goes.
const secretsHelp = `rotate seals every secret again, in one transaction, under the first of the keys given
(BATON_SECRET_KEY or --secret-key-file), opening them with any of the keys given. To rotate:
  1. make a key with "baton secrets new-key";
  2. give every server the new key first and the old one after it, and restart them;
  3. run "baton secrets rotate" with the same keys;
  4. drop the old key from every server's keys.
On the embedded SQLite database with no key given, rotate does it all: it makes a new key,
keeps both in the data directory's secret.key while it seals, then only the new one.`

func secretsCommand(stdout io.Writer) *ff.Command {
	c := group("secrets", "baton secrets rotate|new-key [flags]", "manage the key channel credentials and webhook secrets are sealed with",
		secretsRotateCommand(stdout), secretsNewKeyCommand(stdout))
	c.LongHelp = secretsHelp
	return c
}

func secretsNewKeyCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("new-key", flag.ContinueOnError)
	return command(fs, false, "baton secrets new-key", "print a new random key for BATON_SECRET_KEY or --secret-key-file", "",
		noArgs(func(context.Context) error {
			fmt.Fprintln(stdout, secret.NewKey())
			return nil
		}))
}

func secretsRotateCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("rotate", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	return command(fs, true, "baton secrets rotate [flags]", "seal every channel credential and webhook secret again, under a new key", secretsHelp,
		noArgs(func(ctx context.Context) error { return rotate(ctx, &sf, stdout) }))
}

// rotate seals every secret under the first key sf gives or, with none given on the embedded
// database, under a new key of its key file.
func rotate(ctx context.Context, sf *storeFlags, stdout io.Writer) error {
	keys, err := sf.keys()
	if err != nil {
		return err
	}
	switch {
	case keys != nil:
		return reseal(ctx, sf, keys.Primary().ID(), stdout)
	case sf.databaseURL != "":
		return fmt.Errorf("no key given: set %s or --secret-key-file, the new key first and the old one after it", secretKeyEnv)
	}
	return rotateKeyFile(ctx, sf, stdout)
}

// reseal opens the store with the keys sf gives and seals every secret under the first.
func reseal(ctx context.Context, sf *storeFlags, primary string, stdout io.Writer) error {
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Reseal(ctx, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sealed %d rows again under key %s\n", n, primary)
	return nil
}

// rotateKeyFile rotates the key of the embedded database's key file: the file holds the new
// key and the old ones while secrets are sealed again, then the new key alone. A rotation cut
// short leaves a file that opens every secret, and running it again finishes it.
func rotateKeyFile(ctx context.Context, sf *storeFlags, stdout io.Writer) error {
	path, err := sf.sqlitePath()
	if err != nil {
		return err
	}
	release, err := lockDataDir(sf.dataDir) // no server may run on the old key meanwhile
	if err != nil {
		return err
	}
	defer release()
	file := sqlite.KeyFile(path)
	old, err := secret.ReadKeyTexts(file)
	if err != nil {
		return fmt.Errorf("no key given and no key file to rotate: %w", err)
	}
	fresh := secret.NewKey()
	if err := secret.ReplaceKeyFile(file, append([]string{fresh}, old...)...); err != nil {
		return err
	}
	key, err := secret.ParseKey(fresh)
	if err != nil {
		return err
	}
	if err := reseal(ctx, sf, key.ID(), stdout); err != nil {
		return err
	}
	return secret.ReplaceKeyFile(file, fresh)
}
