# Baton's container image: a static binary built in one stage, run as a non-root user on a
# base with no shell or package manager in the next. SQLite is modernc's, pure Go, so the
# binary needs no C library. Build from the repository's root: docker build -t baton .
# The .git directory is part of the context so that `baton version` reports the tag or
# commit the image was built from.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/baton ./server/cmd/baton \
	&& /out/baton version \
	&& mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/baton /usr/local/bin/baton
# The embedded SQLite database lives here, owned by nonroot (65532), unless BATON_DATABASE_URL
# names PostgreSQL. Mount a volume on it to keep the data.
COPY --from=build --chown=65532:65532 /out/data /var/lib/baton
WORKDIR /var/lib/baton
ENV BATON_DATA_DIR=/var/lib/baton \
	BATON_LISTEN=:8080
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/baton"]
CMD ["serve"]
