package dev.activa.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * dlopen/dlsym through FFM. {@link SymbolLookup#libraryLookup} hides dlerror() and the path the
 * loader picked; we need both for useful messages ("libcublasLt.so.13: cannot open shared object
 * file" beats "cannot open library"), and RTLD_GLOBAL so cuDNN's sub-libraries, loaded later by
 * soname, see what we preloaded.
 */
final class Dl {
    private static final int RTLD_NOW = 0x2, RTLD_GLOBAL = 0x100; // <dlfcn.h>, glibc x86_64/aarch64
    private static final int RTLD_DI_LINKMAP = 2;
    private static final MethodHandle DLOPEN, DLSYM, DLERROR, DLINFO;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        DLOPEN = linker.downcallHandle(libc.find("dlopen").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        DLSYM = linker.downcallHandle(libc.find("dlsym").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        DLERROR = linker.downcallHandle(libc.find("dlerror").orElseThrow(), FunctionDescriptor.of(ADDRESS));
        DLINFO = linker.downcallHandle(libc.find("dlinfo").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    }

    private Dl() {}

    /** A loaded library: where the loader found it and a lookup of its symbols. */
    record Library(Path path, MemorySegment handle) implements SymbolLookup {
        @Override
        public Optional<MemorySegment> find(String name) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment symbol = (MemorySegment) DLSYM.invokeExact(handle, arena.allocateFrom(name));
                return symbol.address() == 0 ? Optional.empty() : Optional.of(symbol);
            } catch (Throwable t) {
                throw new IllegalStateException("dlsym(" + name + ") failed", t);
            }
        }
    }

    /** Thrown with dlerror()'s text when a library does not load. */
    static final class LoadFailure extends Exception {
        LoadFailure(String message) { super(message); }
    }

    /**
     * Loads a library by file path or by soname (then the system loader searches LD_LIBRARY_PATH,
     * the ld.so cache and the default folders). Libraries are never unloaded.
     */
    static Library open(String pathOrSoname) throws LoadFailure {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) DLOPEN.invokeExact(arena.allocateFrom(pathOrSoname), RTLD_NOW | RTLD_GLOBAL);
            if (handle.address() == 0) throw new LoadFailure(lastError());
            return new Library(loadedPath(handle, pathOrSoname), handle);
        } catch (LoadFailure e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("dlopen(" + pathOrSoname + ") failed", t);
        }
    }

    private static String lastError() throws Throwable {
        MemorySegment message = (MemorySegment) DLERROR.invokeExact();
        return message.address() == 0 ? "unknown dlopen error" : message.reinterpret(4096).getString(0);
    }

    /** The path the loader resolved: link_map.l_name (second field of struct link_map, <link.h>). */
    private static Path loadedPath(MemorySegment handle, String fallback) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) DLINFO.invokeExact(handle, RTLD_DI_LINKMAP, out);
            if (rc != 0) return Path.of(fallback);
            MemorySegment linkMap = out.get(ADDRESS, 0).reinterpret(2 * ADDRESS.byteSize());
            MemorySegment name = linkMap.get(ADDRESS, ADDRESS.byteSize());
            String path = name.address() == 0 ? "" : name.reinterpret(4096).getString(0);
            return Path.of(path.isEmpty() ? fallback : path);
        }
    }
}
