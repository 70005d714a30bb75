package dev.tuna.internal.net;

import dev.tuna.ProgressListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/** HTTP downloads with progress and a SHA-256 of what arrived (not API). */
public final class Downloads {
    private Downloads() {}

    /**
     * Downloads {@code url} into {@code file} (created or replaced), reporting "download" progress in bytes.
     *
     * @param url the address
     * @param file where the bytes go; the caller renames it into place once satisfied
     * @param progress receives progress
     * @return the SHA-256 of the downloaded bytes, lowercase hex
     * @throws IOException on a network error or an HTTP status other than 200
     * @throws InterruptedException when interrupted
     */
    public static String fetch(String url, Path file, ProgressListener progress) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(20)).build();
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofMinutes(30)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException("HTTP " + response.statusCode());
        }
        long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        MessageDigest sha = dev.tuna.internal.io.Digests.sha256();
        try (InputStream in = new DigestInputStream(response.body(), sha); OutputStream out = Files.newOutputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            long done = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                done += n;
                progress.update("download", done, total > 0 ? total : done + 1);
            }
            progress.update("download", done, done);
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
