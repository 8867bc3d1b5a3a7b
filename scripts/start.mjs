// `npm start`: will run `espmesh up --demo` once the CLI's `up` command exists (issue: front doors).
process.stdout.write("espmesh: `npm start` will run `espmesh up --demo`; the `up` command is not built yet.\n");
