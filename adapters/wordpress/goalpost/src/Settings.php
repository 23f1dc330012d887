<?php
/**
 * Settings → Goalpost: connection, the "Send test event" button and the delivery status.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The settings page. Saving goes through the Settings API (options.php checks manage_options
 * and the `goalpost-options` nonce); the test event is an admin-post action that checks both
 * itself. The API key is never printed back, only its last four characters.
 */
final class Settings {

	const PAGE        = 'goalpost';
	const TEST_ACTION = 'goalpost_test_event';

	/**
	 * Sends the test event and reads the status.
	 *
	 * @var Delivery
	 */
	private $delivery;

	/**
	 * @param Delivery $delivery Sends the test event and reads the status.
	 */
	public function __construct( Delivery $delivery ) {
		$this->delivery = $delivery;
	}

	/**
	 * Registers the hooks.
	 */
	public function register(): void {
		add_action( 'admin_menu', array( $this, 'add_page' ) );
		add_action( 'admin_init', array( $this, 'register_setting' ) );
		add_action( 'admin_post_' . self::TEST_ACTION, array( $this, 'handle_test_event' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( GOALPOST_PLUGIN_FILE ), array( $this, 'action_links' ) );
	}

	/**
	 * The fields, as data: one renderer draws them all.
	 *
	 * @return array<string, array{label:string, type:string, description:string}>
	 */
	private function fields(): array {
		return array(
			'url'          => array(
				'label'       => __( 'Goalpost URL', 'goalpost' ),
				'type'        => 'url',
				'description' => __( 'The address of your Goalpost server, e.g. https://stats.example.com', 'goalpost' ),
			),
			'site'         => array(
				'label'       => __( 'Site domain', 'goalpost' ),
				'type'        => 'text',
				'description' => __( 'The site as registered in Goalpost. Empty: this site\'s host.', 'goalpost' ),
			),
			'api_key'      => array(
				'label'       => __( 'Site API key', 'goalpost' ),
				'type'        => 'password',
				'description' => __( 'Sends form submissions from the server and reads the dashboard widget\'s numbers. Leave empty to keep the saved key.', 'goalpost' ),
			),
			'track_admins' => array(
				'label'       => __( 'Track administrators', 'goalpost' ),
				'type'        => 'checkbox',
				'description' => __( 'Also count visits of logged-in users who can manage options.', 'goalpost' ),
			),
			'ip_header'    => array(
				'label'       => __( 'Client IP header', 'goalpost' ),
				'type'        => 'text',
				'description' => __( 'The $_SERVER key with the visitor\'s address: REMOTE_ADDR, or e.g. HTTP_CF_CONNECTING_IP behind Cloudflare.', 'goalpost' ),
			),
		);
	}

	/**
	 * Adds Settings → Goalpost.
	 */
	public function add_page(): void {
		add_options_page( __( 'Goalpost', 'goalpost' ), __( 'Goalpost', 'goalpost' ), 'manage_options', self::PAGE, array( $this, 'render' ) );
	}

	/**
	 * The option and its sanitizer.
	 */
	public function register_setting(): void {
		register_setting(
			self::PAGE,
			Config::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( $this, 'sanitize' ),
				'default'           => array(),
				'show_in_rest'      => false,
			)
		);
	}

	/**
	 * Cleans the submitted settings; an empty key field keeps the saved key.
	 *
	 * @param mixed $input The posted `goalpost_settings` array.
	 */
	public function sanitize( $input ): array {
		$saved = get_option( Config::OPTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		if ( ! is_array( $input ) ) {
			return $saved;
		}
		$text  = static function ( $key ) use ( $input ) {
			return isset( $input[ $key ] ) && is_scalar( $input[ $key ] ) ? trim( sanitize_text_field( (string) $input[ $key ] ) ) : '';
		};
		$key   = $text( 'api_key' );
		$ip    = strtoupper( preg_replace( '/[^A-Za-z0-9_]/', '', $text( 'ip_header' ) ) );
		$clean = array(
			'url'          => untrailingslashit( esc_url_raw( $text( 'url' ), array( 'http', 'https' ) ) ),
			'site'         => strtolower( preg_replace( '/[^A-Za-z0-9.:\-]/', '', $text( 'site' ) ) ),
			'api_key'      => '' !== $key ? $key : ( isset( $saved['api_key'] ) ? (string) $saved['api_key'] : '' ),
			'track_admins' => ! empty( $input['track_admins'] ),
			'ip_header'    => '' !== $ip ? $ip : 'REMOTE_ADDR',
		);
		if ( ! empty( $input['remove_api_key'] ) ) {
			$clean['api_key'] = '';
		}
		return $clean;
	}

	/**
	 * admin-post.php?action=goalpost_test_event: capability and nonce first.
	 */
	public function handle_test_event(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'goalpost' ), 403 );
		}
		check_admin_referer( self::TEST_ACTION );
		$answer = $this->delivery->send_now( Command::test_event() );
		set_transient( 'goalpost_test_result_' . get_current_user_id(), $answer, 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( add_query_arg( 'page', self::PAGE, admin_url( 'options-general.php' ) ) );
		exit;
	}

	/**
	 * A "Settings" link on the Plugins screen.
	 *
	 * @param string[] $links The row's links.
	 */
	public function action_links( $links ) {
		$url = add_query_arg( 'page', self::PAGE, admin_url( 'options-general.php' ) );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'goalpost' ) . '</a>' );
		return $links;
	}

	/**
	 * Draws the page.
	 */
	public function render(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$options = get_option( Config::OPTION, array() );
		$options = is_array( $options ) ? $options : array();
		echo '<div class="wrap"><h1>' . esc_html__( 'Goalpost', 'goalpost' ) . '</h1>';
		$this->render_test_result();
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( self::PAGE );
		echo '<table class="form-table" role="presentation">';
		foreach ( $this->fields() as $name => $field ) {
			$this->render_field( $name, $field, $options );
		}
		echo '</table>';
		submit_button();
		echo '</form>';

		echo '<h2>' . esc_html__( 'Test', 'goalpost' ) . '</h2>';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::TEST_ACTION ) . '">';
		wp_nonce_field( self::TEST_ACTION );
		submit_button( __( 'Send test event', 'goalpost' ), 'secondary', 'goalpost-test', false );
		echo '</form>';

		$this->render_status();
		echo '</div>';
	}

	/**
	 * One row of the form; a setting fixed by a constant is shown read-only.
	 *
	 * @param string $name    The setting.
	 * @param array  $field   Its label, type and description.
	 * @param array  $options The saved options.
	 */
	private function render_field( string $name, array $field, array $options ): void {
		$id       = 'goalpost-' . str_replace( '_', '-', $name );
		$attr     = Config::OPTION . '[' . $name . ']';
		$constant = Config::is_constant( $name );
		$value    = isset( $options[ $name ] ) ? $options[ $name ] : '';
		echo '<tr><th scope="row"><label for="' . esc_attr( $id ) . '">' . esc_html( $field['label'] ) . '</label></th><td>';
		if ( 'checkbox' === $field['type'] ) {
			$checked = $constant ? Config::track_admins() : ! empty( $value );
			echo '<input type="checkbox" id="' . esc_attr( $id ) . '" name="' . esc_attr( $attr ) . '" value="1"' . checked( $checked, true, false ) . disabled( $constant, true, false ) . '>';
		} elseif ( 'password' === $field['type'] ) {
			$saved = Config::api_key();
			echo '<input type="password" class="regular-text" autocomplete="new-password" id="' . esc_attr( $id ) . '" name="' . esc_attr( $attr ) . '" value=""' . disabled( $constant, true, false ) . ' placeholder="' . esc_attr( Config::mask( $saved ) ) . '">';
			if ( '' !== $saved && ! $constant ) {
				echo ' <label><input type="checkbox" name="' . esc_attr( Config::OPTION . '[remove_api_key]' ) . '" value="1"> ' . esc_html__( 'Remove the saved key', 'goalpost' ) . '</label>';
			}
		} else {
			if ( $constant ) {
				$value = 'url' === $name ? Config::url() : ( 'site' === $name ? Config::site() : Config::ip_header() );
			}
			$placeholder = 'site' === $name ? (string) wp_parse_url( home_url(), PHP_URL_HOST ) : ( 'ip_header' === $name ? 'REMOTE_ADDR' : '' );
			echo '<input type="' . esc_attr( $field['type'] ) . '" class="regular-text" id="' . esc_attr( $id ) . '" name="' . esc_attr( $attr ) . '" value="' . esc_attr( (string) $value ) . '" placeholder="' . esc_attr( $placeholder ) . '"' . disabled( $constant, true, false ) . '>';
		}
		echo '<p class="description">' . esc_html( $field['description'] ) . '</p>';
		if ( $constant ) {
			/* translators: %s: a PHP constant name */
			echo '<p class="description">' . esc_html( sprintf( __( 'Set by %s in wp-config.php.', 'goalpost' ), Config::CONSTANTS[ $name ] ) ) . '</p>';
		}
		echo '</td></tr>';
	}

	/**
	 * The answer to this user's last test event, shown once.
	 */
	private function render_test_result(): void {
		$key    = 'goalpost_test_result_' . get_current_user_id();
		$answer = get_transient( $key );
		if ( ! is_array( $answer ) ) {
			return;
		}
		delete_transient( $key );
		$class = 'sent' === $answer['result'] ? 'notice-success' : 'notice-error';
		echo '<div class="notice ' . esc_attr( $class ) . ' goalpost-test-result"><p>' . esc_html( self::describe( $answer ) ) . '</p></div>';
	}

	/**
	 * Last answer, refused events, queued and dropped counts.
	 */
	private function render_status(): void {
		$status = $this->delivery->status();
		$rows   = array(
			__( 'Last answer', 'goalpost' )     => $status['last'] ? self::describe( $status['last'] ) : __( 'Nothing sent yet.', 'goalpost' ),
			__( 'Queued events', 'goalpost' )   => (string) count( $this->delivery->queue() ),
			__( 'Dropped events', 'goalpost' )  => (string) $status['dropped'],
			__( 'Last refused event', 'goalpost' ) => $status['rejected'] ? self::describe( $status['rejected'] ) : __( 'None.', 'goalpost' ),
		);
		echo '<h2>' . esc_html__( 'Delivery', 'goalpost' ) . '</h2><table class="widefat striped goalpost-status"><tbody>';
		foreach ( $rows as $label => $value ) {
			echo '<tr><th scope="row">' . esc_html( $label ) . '</th><td>' . esc_html( $value ) . '</td></tr>';
		}
		echo '</tbody></table>';
		if ( $status['rejected'] ) {
			echo '<p class="description">' . esc_html__( 'The Goalpost server refused an event (not retried). Check the site domain and the API key.', 'goalpost' ) . '</p>';
		}
	}

	/**
	 * A server answer in words: "401 — invalid key (2026-11-30 16:00)".
	 *
	 * @param array $answer {result, code, message, time?}.
	 */
	public static function describe( array $answer ): string {
		$code = isset( $answer['code'] ) && (int) $answer['code'] > 0 ? (string) (int) $answer['code'] : __( 'no answer', 'goalpost' );
		$text = $code . ' — ' . ( isset( $answer['message'] ) ? (string) $answer['message'] : '' );
		if ( ! empty( $answer['time'] ) ) {
			$text .= ' (' . wp_date( 'Y-m-d H:i:s', (int) $answer['time'] ) . ')';
		}
		return $text;
	}
}
