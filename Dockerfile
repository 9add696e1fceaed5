# Build a static binary, then run it on a minimal image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/limelight . && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/limelight /limelight
# The SQLite file lives here; the image runs as nonroot, which must own it.
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
ENV LIMELIGHT_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/limelight"]
