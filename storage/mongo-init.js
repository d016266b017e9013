// The app's own MongoDB user, read and write on its database only (storage/compose.yaml).
// The mongo image runs this once, as root, on the first start of an empty data volume; later
// starts skip it, so a new MONGO_APP_PASSWORD is set by hand (docs/operations.md, "Secrets").
db.getSiblingDB("admin").createUser({
  user: process.env.MONGO_APP_USER,
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWrite", db: "buchumen" }],
});
