package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// operatorCreate adds a back-office operator from the command line: how the
// first administrator gets in, before anybody can sign in to add others.
// The password comes from KOPILKA_OPERATOR_PASSWORD or the first line of
// standard input, never from a flag (flags show in the process list).
func operatorCreate(ctx context.Context, args []string, stdin io.Reader) error {
	var email, name, role, partner string
	var c config
	fs := newFlags("operator create", &c)
	fs.BoolVar(&c.create, "create", false, "make the SQLite file if it does not exist")
	fs.StringVar(&email, "email", "", "the operator's e-mail address: the name they sign in with (required)")
	fs.StringVar(&name, "name", "", "the operator's name")
	fs.StringVar(&role, "role", kopilka.RoleAdmin, "the role: "+strings.Join(access.OperatorRoles, ", "))
	fs.StringVar(&partner, "partner-id", "", "the partner whose manager the operator is (role partner-admin)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kopilka operator create -email anna@example.com [-name Anna] [-role admin] [-partner-id …] [-database-url …] [-create]\n\n"+
			"The password is read from KOPILKA_OPERATOR_PASSWORD, or else from the first line of standard input.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if email == "" {
		fs.Usage()
		return errors.New("operator create: -email is required")
	}
	password, ok := os.LookupEnv("KOPILKA_OPERATOR_PASSWORD")
	if !ok {
		fmt.Fprintln(os.Stderr, "password (12 characters or more), then Enter:")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("operator create: no password on standard input or in KOPILKA_OPERATOR_PASSWORD")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	fmt.Fprintln(os.Stderr, "kopilka operator create: using", describe(c.databaseURL))
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := newService(db, c)
	in := access.OperatorInput{Email: &email, Role: &role, Password: &password}
	if name != "" {
		in.Name = &name
	}
	if partner != "" {
		in.PartnerID = &partner
	}
	o, err := svc.Access.CreateOperator(kopilka.NewContextWithPrincipal(ctx, kopilka.System("command line")), in)
	if err != nil {
		return err
	}
	fmt.Printf("operator %s (%s, role %s) added: sign in at /office/ with this e-mail and password\n", o.ID, o.Email, o.Role)
	return nil
}
